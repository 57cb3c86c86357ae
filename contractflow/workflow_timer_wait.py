"""The worker's timer job sleeps until the earliest timer is due, not a second at a time.

It queried every second whether anything was due (~0.3 % of a core per idle worker). Now
its idle wait lasts until the earliest due time of a waiting instance's timer or a timer
start event of this service, at most `look_s`, and ends early when a transaction writes
a timer: NOTIFY from migration k0008's triggers on PostgreSQL, any commit on SQLite. So a
new timer due now fires at once, a known one when it is due.

Due times are business time and the wait is wall time: converting needs the clock's rate
(1 for the wall clock, `rate` of an accelerated one). With a clock of unknown rate (a
test's hand-moved clock) the job looks every `poll_s` as before. A timer still due after
a tick (its firing failed: the tick logged it) is retried every `poll_s`, not in a loop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from contractflow.clock import AcceleratedClock
from contractflow.db import utcnow
from contractflow.events.wakeup import RelayWakeup
from contractflow.worker import Coalesced, PeriodicJob
from contractflow.workflow import Scheduler, WorkflowRuntime
from contractflow.workflow.models import StartTimerRow, TimerRow

TIMERS_CHANNEL = "contractflow_timers"
# The longest sleep with nothing due sooner: a notification is lost only with its LISTEN
# connection, and a clock set forward by hand is noticed by then.
TIMERS_LOOK_S = 30.0
# Under load at most one look per this: a burst of commits writing timers is one query.
TIMERS_GAP_S = 0.05


def business_rate(clock: Callable[[], dt.datetime]) -> float | None:
    """Business seconds per wall second, or None when the clock does not say."""
    if clock is utcnow:
        return 1.0
    if isinstance(clock, AcceleratedClock):
        return clock.rate
    return None


class UntilTheNextTimer:
    """The timer job's run and idle wait (see the module).

    Each run first reads the earliest due time (one statement for both kinds of timer) and
    ticks only when it has come; otherwise the wait that follows sleeps until it, without
    reading it again. A commit that wrote a timer for later (a reminder due in days, at
    every approval level) so costs the woken job that one statement, not a tick's two
    transactions and the wait's look after them."""

    def __init__(
        self,
        scheduler: Scheduler,
        runtime: WorkflowRuntime,
        sessions: sessionmaker[Session],
        engine: Engine,
        poll_s: float,
        look_s: float = TIMERS_LOOK_S,
    ) -> None:
        self.scheduler, self.runtime, self.sessions = scheduler, runtime, sessions
        self.poll_s, self.look_s = poll_s, look_s
        self.rate = business_rate(runtime.clock)
        wakeup = RelayWakeup(engine, channel=TIMERS_CHANNEL)
        self._woken = Coalesced(wakeup.wait, wakeup.close, TIMERS_GAP_S, wakeup.listen)
        self._read = False  # the earliest due time below was read by this round's run
        self._earliest: dt.datetime | None = None

    def run_once(self) -> int:
        self._earliest, self._read = self._earliest_due(), True
        if self._earliest is None or self._earliest > self.runtime.clock():
            return 0
        self._read = False  # firing changes what is due next
        return self.scheduler.tick()

    def wait(self, _idle_s: float) -> None:
        self._woken.wait(self.seconds_to_wait())

    def close(self) -> None:
        self._woken.close()

    def listen(self) -> None:
        self._woken.listen()

    def seconds_to_wait(self) -> float:
        if self.rate is None:
            return self.poll_s
        earliest = self._earliest if self._read else self._earliest_due()
        self._read = False
        if earliest is None:
            return self.look_s
        left = (earliest - self.runtime.clock()).total_seconds() / self.rate
        if left <= 0:
            return self.poll_s  # due, yet the tick just run left it: retried, not looped on
        return min(left, self.look_s)

    def _earliest_due(self) -> dt.datetime | None:
        waiting = select(func.min(TimerRow.due_at)).scalar_subquery()
        starting = (
            select(func.min(StartTimerRow.due_at))
            .where(StartTimerRow.service == self.runtime.service)
            .scalar_subquery()
        )
        with self.sessions() as session:
            row = session.execute(select(waiting, starting)).one()
        due = [d for d in row if d is not None]
        return min(due) if due else None


def timer_job(
    scheduler: Scheduler,
    runtime: WorkflowRuntime,
    sessions: sessionmaker[Session],
    engine: Engine,
    poll_s: float = 1.0,
    look_s: float = TIMERS_LOOK_S,
) -> PeriodicJob:
    until = UntilTheNextTimer(scheduler, runtime, sessions, engine, poll_s, look_s)
    return PeriodicJob.woken_by("workflow-timers", until.run_once, until, look_s)
