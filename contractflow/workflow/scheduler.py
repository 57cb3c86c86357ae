"""The worker's timer loop: fire what is due, each instance in its own transaction.

Only the `due_at <= now` index range is read, so an idle tick costs the same with ten or a
million waiting timers; the rows are the schedule, so a restarted worker loses nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contractflow.db import unit_of_work
from contractflow.workflow.errors import InstanceConflict
from contractflow.workflow.messages import HeldMessage
from contractflow.workflow.runtime import WorkflowRuntime

log = logging.getLogger(__name__)

DeadLetter = Callable[[Session, HeldMessage], None]


class Scheduler:
    def __init__(
        self,
        runtime: WorkflowRuntime,
        sessions: sessionmaker[Session],
        *,
        batch_size: int = 200,
        max_conflict_retries: int = 3,
    ) -> None:
        self.runtime = runtime
        self.sessions = sessions
        self.batch_size = batch_size
        self.max_conflict_retries = max_conflict_retries

    def tick(self, now: dt.datetime | None = None) -> int:
        """Fire every timer due at `now` — waiting instances' timers, then timer start
        events (each starts an instance); returns how many fired."""
        now = now or self.runtime.clock()
        fired = self._drain(
            "instance", lambda s, n: self.runtime.due_instances(s, now, n), self._fire, now
        )
        return fired + self._drain(
            "start timer",
            lambda s, n: self.runtime.due_start_timers(s, now, n),
            self._start,
            now,
        )

    def _drain(
        self,
        what: str,
        due: Callable[[Session, int], list[Any]],
        fire: Callable[[Any, dt.datetime], int],
        now: dt.datetime,
    ) -> int:
        """Fire each due key, each in its own transaction. A key is fired at most once per
        tick: if its row is still due afterwards (or firing failed) the next tick retries
        it, instead of this one looping on it and starving the rest."""
        fired = 0
        done: set[Any] = set()
        while True:
            with unit_of_work(self.sessions) as session:
                todo = [k for k in due(session, self.batch_size + len(done)) if k not in done]
            if not todo:
                return fired
            for key in todo:
                done.add(key)
                try:
                    fired += fire(key, now)
                except Exception:
                    # One broken instance or schedule must not stop everyone else's timers.
                    log.exception("firing the timers of %s %s failed", what, key)

    def _start(self, schedule_id: int, now: dt.datetime) -> int:
        with unit_of_work(self.sessions) as session:
            started = self.runtime.fire_start_timer(session, schedule_id, now)
        return 0 if started is None else 1

    def _fire(self, instance_id: str, now: dt.datetime) -> int:
        for attempt in range(self.max_conflict_retries + 1):
            try:
                with unit_of_work(self.sessions) as session:
                    return self.runtime.fire_timers(session, instance_id, now)
            except InstanceConflict:
                if attempt == self.max_conflict_retries:
                    raise
        return 0

    def expire_messages(
        self, now: dt.datetime | None = None, dead_letter: DeadLetter | None = None
    ) -> list[HeldMessage]:
        """Remove held messages past their TTL; `dead_letter` runs in the same transaction."""
        now = now or self.runtime.clock()
        with unit_of_work(self.sessions) as session:
            expired = self.runtime.expired_unmatched(session, now)
            for held in expired:
                if dead_letter is not None:
                    dead_letter(session, held)
                else:
                    log.warning("dropping unmatched message: %s", held.reason)
        return expired
