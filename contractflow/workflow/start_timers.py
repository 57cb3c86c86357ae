"""Timer start events: the scheduler starts instances of a process on its schedule.

A process whose start event is a timer (`P30D` after deployment, a date, or a cycle such
as `R/P1M` for a monthly service review) gets a schedule row when a version of it is
deployed; the new version's row replaces the old one's, so a redeployment moves the
schedule to the new version. The scheduler's tick starts one instance per due row, in
the same transaction as it moves the row on (or deletes it after the last cycle), so an
instance is neither lost nor started twice, and a restarted worker picks up where the
last one stopped. A schedule missed while no worker ran (several cycles, say) starts one
instance, not a burst of them; the row counts the instances started so far.

The timer value must be a plain ISO 8601 literal: before an instance exists there are no
process variables to evaluate an expression against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.control import StartEventSplit
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from contractflow.workflow import problem_codes
from contractflow.workflow.models import StartTimerRow
from contractflow.workflow.timers import (
    CycleTimer,
    DateTimer,
    DurationTimer,
    add_duration,
    is_iso_literal,
    parse_cycle,
    parse_datetime,
)
from contractflow.workflow.validation import Problem

TIMER_TYPES = (DateTimer, DurationTimer, CycleTimer)


@dataclass(frozen=True)
class StartTimer:
    """A timer start event of a top-level process, as the spec has it."""

    element_id: str
    definition: Any  # DateTimer | DurationTimer | CycleTimer

    @property
    def text(self) -> str:
        return str(self.definition.expression).strip()


def timer_start_events(spec: Any) -> list[StartTimer]:
    """The process's own start events that are timers (not those of subprocesses)."""
    found = []
    for task_spec in _start_event_specs(spec.start):
        definition = task_spec.event_definition
        if isinstance(definition, TIMER_TYPES):
            found.append(StartTimer(task_spec.bpmn_id, definition))
    return found


def _start_event_specs(start: Any) -> list[Any]:
    # With several start events SpiffWorkflow puts a StartEventSplit between them and the
    # process's start task.
    found = []
    for output in start.outputs:
        if isinstance(output, StartEvent):
            found.append(output)
        elif isinstance(output, StartEventSplit):
            found += [o for o in output.outputs if isinstance(o, StartEvent)]
    return found


def check_start_timers(file_name: str, spec: Any) -> list[Problem]:
    """Problems with a process's timer start events: each must be a plain ISO value."""
    problems = []
    for start in timer_start_events(spec):
        if not is_iso_literal(start.text):
            problems.append(
                Problem(
                    file_name,
                    start.element_id,
                    f"timer start event value {start.text!r} is not a plain ISO 8601 "
                    "date, duration or cycle; a start timer has no process variables to "
                    "evaluate an expression against",
                    problem_codes.START_TIMER_NOT_ISO,
                    {"value": start.text},
                )
            )
    return problems


Schedule = tuple[dt.datetime, int | None, float | None]  # due, cycles left, period (s)


def first_due(start: StartTimer, deployed_at: dt.datetime) -> Schedule | None:
    """(due, cycles left, period in seconds) of a schedule deployed now; None: never."""
    if isinstance(start.definition, CycleTimer):
        cycle = parse_cycle(start.text, deployed_at)
        if cycle["cycles"] == 0:
            return None
        return dt.datetime.fromisoformat(cycle["next"]), cycle["cycles"], cycle["duration"]
    if isinstance(start.definition, DateTimer):
        return parse_datetime(start.text), None, None
    return add_duration(deployed_at, start.text), None, None


def reschedule(
    session: Session,
    service: str,
    definition_id: int,
    specs: Iterable[tuple[str, Any]],
    now: dt.datetime,
) -> None:
    """A version was deployed: its processes' timer start events replace the schedule."""
    for process_id, spec in specs:
        session.execute(
            delete(StartTimerRow).where(
                StartTimerRow.service == service, StartTimerRow.process_id == process_id
            )
        )
        for start in timer_start_events(spec):
            due = first_due(start, now)
            if due is None:
                continue
            due_at, cycles_left, period_s = due
            session.add(
                StartTimerRow(
                    service=service,
                    process_id=process_id,
                    element_id=start.element_id,
                    definition_id=definition_id,
                    timer=start.text,
                    due_at=due_at,
                    cycles_left=cycles_left,
                    period_s=period_s,
                    fired=0,
                )
            )
    session.flush()


def due_ids(session: Session, service: str, now: dt.datetime, limit: int) -> list[int]:
    rows = session.execute(
        select(StartTimerRow.id)
        .where(StartTimerRow.due_at <= now, StartTimerRow.service == service)
        .order_by(StartTimerRow.due_at)
        .limit(limit)
    )
    return [r[0] for r in rows]


def take_due(session: Session, schedule_id: int, now: dt.datetime) -> StartTimerRow | None:
    """The schedule row, locked for this transaction, if it is still due (another worker
    may have just fired it: then None)."""
    query = (
        select(StartTimerRow)
        .where(StartTimerRow.id == schedule_id, StartTimerRow.due_at <= now)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).one_or_none()


def advance(session: Session, row: StartTimerRow, now: dt.datetime) -> None:
    """Move the schedule past `now` after an instance was started for it; delete it after
    its last start. Cycles missed while no worker ran count as used: one start stood for
    them."""
    row.fired += 1
    if row.cycles_left is None or row.period_s is None:
        session.delete(row)
        return
    period = dt.timedelta(seconds=row.period_s)
    due, skipped = row.due_at + period, 0
    if due <= now:
        skipped = (now - due) // period + 1
        due += period * skipped
    if row.cycles_left > 0:  # -1: endless
        row.cycles_left -= 1 + skipped
        if row.cycles_left <= 0:
            session.delete(row)
            return
    row.due_at = due


def _top_start_events(workflow: Any) -> list[Any]:
    # The tree's root is the process's BpmnStartTask; its children are the start events,
    # or a StartEventSplit whose children they are.
    found = []
    for task in workflow.task_tree.children:
        if isinstance(task.task_spec, StartEvent):
            found.append(task)
        elif isinstance(task.task_spec, StartEventSplit):
            found += [t for t in task.children if isinstance(t.task_spec, StartEvent)]
    return found


def start_by_hand(workflow: Any) -> None:
    """A new instance started by a person or an event, not by the schedule: when the
    process has other start events, its timer start events are the schedule's and this
    instance does not wait at them. (A process whose only start is a timer still waits
    for it: that is the one way in.)"""
    starts = _top_start_events(workflow)
    timed = [t for t in starts if isinstance(t.task_spec.event_definition, TIMER_TYPES)]
    if timed and len(timed) < len(starts):
        for task in timed:
            task.cancel()


def start_here(workflow: Any, element_id: str, due: dt.datetime, period_s: float | None) -> None:
    """Make a new instance start at its timer start event `element_id`, fired at `due`;
    the process's other start events are not taken."""
    starts = _top_start_events(workflow)
    chosen = [t for t in starts if t.task_spec.bpmn_id == element_id]
    if len(chosen) != 1:
        raise LookupError(f"process {workflow.spec.name!r} has no start event {element_id!r}")
    [task] = chosen
    if isinstance(task.task_spec.event_definition, CycleTimer):
        # One cycle, due now: the schedule row, not the instance, counts the cycles.
        value = {"cycles": 1, "next": due.isoformat(), "duration": period_s or 1.0}
        task._set_internal_data(event_value=value)
    else:
        task._set_internal_data(event_value=due.isoformat(), event_fired=True)
    for other in starts:
        if other is not task:
            other.cancel()
