"""Timers on an injectable clock, with plain ISO 8601 values in the BPMN.

SpiffWorkflow's timer definitions read `datetime.now()` and evaluate the timer text as a
Python expression, so a modeller would have to write `"P30D"` with quotes. These
subclasses read the time from `now()` (set per step by the runtime, so tests and the
scheduler decide what time it is) and take an unquoted ISO value as a literal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

_NOW: ContextVar[dt.datetime | None] = ContextVar("workflow_now", default=None)

# P30D, PT1H, P1Y2M; 2027-01-01T00:00:00+08:00; R3/P7D, R/P1D, R2/2027-01-01T00:00:00Z/P1D
ISO_LITERAL = re.compile(
    r"^\s*(P[0-9YMWDTHS.,]+|\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?"
    r"|R\d*/[^\s]+)\s*$",
    re.IGNORECASE,
)


def now() -> dt.datetime:
    """The current time as the running step sees it."""
    return _NOW.get() or dt.datetime.now(dt.UTC)


@contextlib.contextmanager
def clock_at(moment: dt.datetime) -> Iterator[None]:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the workflow clock needs a timezone")
    token = _NOW.set(moment)
    try:
        yield
    finally:
        _NOW.reset(token)


def is_iso_literal(text: str) -> bool:
    return bool(ISO_LITERAL.match(text or ""))


def parse_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no timezone; write e.g. 2027-01-01T00:00:00+08:00")
    return value.astimezone(dt.UTC)


def add_duration(start: dt.datetime, text: str) -> dt.datetime:
    parsed = TimerEventDefinition.parse_iso_duration(text.strip())
    return start + TimerEventDefinition.get_timedelta_from_start(parsed, start)


def check_timer_literal(kind: str, text: str) -> None:
    """Raise ValueError unless `text` is a valid value for a timer of this kind."""
    if kind == "date":
        parse_datetime(text)
    elif kind == "duration":
        add_duration(dt.datetime(2000, 1, 1, tzinfo=dt.UTC), text)
    else:
        parse_cycle(text, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))


def parse_cycle(text: str, start_from: dt.datetime) -> dict[str, Any]:
    """R<n>/<duration> or R<n>/<start>/<duration>: cycles left, next due time, period."""
    parts = text.strip().upper().split("/")
    if len(parts) not in (2, 3) or not parts[0].startswith("R"):
        raise ValueError(f"{text!r} is not a cycle such as R3/P7D")
    cycles = int(parts[0][1:]) if parts[0][1:] else -1
    if len(parts) == 3:
        first = parse_datetime(parts[1])
        period = add_duration(first, parts[2]) - first
    else:
        first = add_duration(start_from, parts[1])
        period = first - start_from
    if period <= dt.timedelta(0):
        raise ValueError(f"{text!r} has no positive period")
    return {"cycles": cycles, "next": first.isoformat(), "duration": period.total_seconds()}


def timer_text(my_task: Any, expression: str) -> str:
    if is_iso_literal(expression):
        return expression.strip()
    value = my_task.workflow.script_engine.evaluate(my_task, expression)
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


class DateTimer(TimeDateEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        due = my_task._get_internal_data("event_value")
        if due is None:
            due = parse_datetime(timer_text(my_task, self.expression)).isoformat()
            my_task._set_internal_data(event_value=due)
        if dt.datetime.fromisoformat(due) <= now():
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class DurationTimer(DurationTimerEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        due = my_task._get_internal_data("event_value")
        if due is None:
            due = add_duration(now(), timer_text(my_task, self.expression)).isoformat()
            my_task._set_internal_data(event_value=due)
        if dt.datetime.fromisoformat(due) <= now():
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class CycleTimer(CycleTimerEventDefinition):
    def cycle_complete(self, my_task: Any) -> bool:
        value = my_task._get_internal_data("event_value")
        if value is None:
            value = parse_cycle(timer_text(my_task, self.expression), now())
        ready = False
        if value["cycles"] != 0:
            due = dt.datetime.fromisoformat(value["next"])
            if due <= now():
                value["next"] = (due + dt.timedelta(seconds=value["duration"])).isoformat()
                value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        my_task._set_internal_data(event_value=value)
        return ready


TIMER_CLASSES = {"date": DateTimer, "duration": DurationTimer, "cycle": CycleTimer}


def due_at(my_task: Any) -> dt.datetime | None:
    """When a waiting timer task must next be looked at, or None if it is not a timer."""
    definition = my_task.task_spec.event_definition
    value = my_task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimer):
        return dt.datetime.fromisoformat(value["next"]) if value["cycles"] != 0 else None
    if isinstance(definition, DateTimer | DurationTimer):
        return dt.datetime.fromisoformat(value)
    return None
