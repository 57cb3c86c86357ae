"""The worker's timer loop: fire what is due, each instance in its own transaction.

Only the `due_at <= now` index range is read, so an idle tick costs the same with ten or a
million waiting timers; the rows are the schedule, so a restarted worker loses nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

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
        """Fire every timer due at `now`; returns how many fired."""
        now = now or self.runtime.clock()
        fired = 0
        # An instance is fired at most once per tick: if its timer row is still due
        # afterwards (or firing failed) the next tick retries it, instead of this one
        # looping on it and starving the rest.
        done: set[str] = set()
        while True:
            with unit_of_work(self.sessions) as session:
                due = self.runtime.due_instances(session, now, self.batch_size + len(done))
            todo = [i for i in due if i not in done]
            if not todo:
                return fired
            for instance_id in todo:
                done.add(instance_id)
                try:
                    fired += self._fire(instance_id, now)
                except Exception:
                    # One broken instance must not stop everyone else's timers.
                    log.exception("firing timers of instance %s failed", instance_id)

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
