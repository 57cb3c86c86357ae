"""Timers on an injectable clock, with plain ISO 8601 values in the BPMN, bounded.

SpiffWorkflow's timer definitions read `datetime.now()` and evaluate the timer text as a
Python expression, so a modeller would have to write `"P30D"` with quotes. These
subclasses read the time from `now()` (set per step by the runtime, so tests and the
scheduler decide what time it is) and take an unquoted ISO value as a literal.

Every value is checked against the bounds below before any date arithmetic: calendar
arithmetic over `P99999999Y` steps month by month for hours, and values past year 9999
overflow. A literal outside them is refused at deployment with the element id; a value
an expression computes at run time is checked the same way and, when it fails, the timer
task fails, which the runtime turns into an incident on the element.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

# The documented bounds (workflows/README.md, "Timer values").
MAX_TIMER_SPAN = dt.timedelta(days=3653)  # ten calendar years, leap days included
MIN_CYCLE_PERIOD = dt.timedelta(minutes=1)
MAX_REPETITIONS = 100_000
EARLIEST_DATE = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST_DATE = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)  # exclusive
# Durations are measured from one fixed moment to check them, so that whether a value is
# allowed never depends on when it is deployed or reached.
_REFERENCE_START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

_NOW: ContextVar[dt.datetime | None] = ContextVar("workflow_now", default=None)

_NUMBER = r"(\d{1,12}(?:[.,]\d{1,9})?)"
_DURATION = re.compile(
    rf"P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?",
    re.IGNORECASE,
)
_DURATION_UNITS = ("years", "months", "weeks", "days", None, "hours", "minutes", "seconds")
# What a modeller means as an ISO value rather than an expression: `P…` with a digit, T,
# a sign or nothing after it, `R…/`, or a date. Such text is held to the ISO grammar, never
# read as a variable name (`P1X`, `PT`, `R-3/P1D` are refused, not looked up at run time).
_LOOKS_ISO = re.compile(r"^\s*(?:[Pp](?:[-+\d.,]|\s*$)|PT|[Rr][-+\d.,]*/|\d{4}-)")


class TimerValueInvalid(ValueError):
    """A timer value that is not a valid, bounded ISO 8601 date, duration or cycle."""


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
    """Whether the timer text is meant as an ISO value (valid or not), not an expression."""
    return bool(_LOOKS_ISO.match(text or ""))


def constant_value(expression: str) -> str | None:
    """The text of a timer expression that is a constant string (`"P3D"`), else None:
    a constant can be checked at deployment like a literal."""
    try:
        value = ast.literal_eval(expression.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def parse_datetime(text: str) -> dt.datetime:
    """An ISO 8601 date-time with a timezone, between 1970 and 2199, in UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TimerValueInvalid(
            f"{text!r} is not an ISO 8601 date-time such as 2027-01-01T00:00:00+08:00"
        ) from None
    if value.tzinfo is None:
        raise TimerValueInvalid(f"{text!r} has no timezone; write e.g. 2027-01-01T00:00:00+08:00")
    if not EARLIEST_DATE.year <= value.year < LATEST_DATE.year:
        raise TimerValueInvalid(_outside_window(text))
    value = value.astimezone(dt.UTC)  # cannot overflow: the year is far from 1 and 9999
    if not EARLIEST_DATE <= value < LATEST_DATE:
        raise TimerValueInvalid(_outside_window(text))
    return value


def _outside_window(text: str) -> str:
    return (
        f"{text!r} is outside the dates a timer may use "
        f"({EARLIEST_DATE:%Y-%m-%d} to {LATEST_DATE.year - 1}-12-31, UTC)"
    )


def parse_duration(text: str) -> dict[str, float]:
    """The units of an ISO 8601 duration (P1Y2M10DT2H30M), at most ten years long."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise TimerValueInvalid(f"{text!r} is not an ISO 8601 duration such as P30D, PT1H or P1Y2M")
    parts: dict[str, float] = {}
    fractional: list[str] = []
    for unit, number in zip(_DURATION_UNITS, match.groups(), strict=True):
        if unit is None or number is None:
            continue
        if "." in number or "," in number:
            fractional.append(unit)
            parts[unit] = float(number.replace(",", "."))
        else:
            parts[unit] = int(number)
    if not parts:
        raise TimerValueInvalid(f"{text!r} is a duration with no length; write e.g. P30D or PT1H")
    if match.group(5) is not None and not any(u in parts for u in ("hours", "minutes", "seconds")):
        raise TimerValueInvalid(f"{text!r} has a T but no hours, minutes or seconds after it")
    if fractional and fractional != [list(parts)[-1]]:
        raise TimerValueInvalid(f"{text!r}: only the last unit of a duration may have a fraction")
    # A cheap upper bound first, so that a huge value never reaches calendar arithmetic.
    rough_days = (
        parts.get("years", 0) * 366
        + parts.get("months", 0) * 31
        + parts.get("weeks", 0) * 7
        + parts.get("days", 0)
        + parts.get("hours", 0) / 24
        + parts.get("minutes", 0) / 1440
        + parts.get("seconds", 0) / 86400
    )
    if rough_days > MAX_TIMER_SPAN.days * 1.1 or _length(parts, _REFERENCE_START) > MAX_TIMER_SPAN:
        raise TimerValueInvalid(f"{text!r} is longer than {_max_span_text()}")
    return parts


def _length(parts: dict[str, float], start: dt.datetime) -> dt.timedelta:
    return TimerEventDefinition.get_timedelta_from_start(dict(parts), start)


def _max_span_text() -> str:
    return f"the maximum timer span of 10 years ({MAX_TIMER_SPAN.days} days)"


def add_duration(start: dt.datetime, text: str) -> dt.datetime:
    """`start` plus the ISO duration, calendar-aware (P1M is one calendar month)."""
    return start + _length(parse_duration(text), start)


def check_timer_literal(kind: str, text: str) -> None:
    """Raise TimerValueInvalid unless `text` is a valid value for a timer of this kind."""
    if kind == "date":
        parse_datetime(text)
    elif kind == "duration":
        parse_duration(text)
    else:
        parse_cycle(text, _REFERENCE_START)


def parse_cycle(text: str, start_from: dt.datetime) -> dict[str, Any]:
    """R<n>/<duration> or R<n>/<start>/<duration>: cycles left, next due time, period."""
    parts = text.strip().upper().split("/")
    repetitions = re.fullmatch(r"R(\d*)", parts[0])
    if len(parts) not in (2, 3) or repetitions is None:
        raise TimerValueInvalid(
            f"{text!r} is not a cycle such as R3/P7D (R<repetitions>/<duration>, "
            "R/<duration> for endless; repetitions are a whole number above 0)"
        )
    digits = repetitions.group(1)
    cycles = -1 if not digits else int(digits) if len(digits) <= 7 else MAX_REPETITIONS + 1
    if cycles == 0 or cycles > MAX_REPETITIONS:
        raise TimerValueInvalid(
            f"{text!r} repeats {digits} times; a cycle repeats 1 to {MAX_REPETITIONS:,} "
            "times, or endlessly as R/<duration>"
        )
    try:
        if len(parts) == 3:
            first = parse_datetime(parts[1])
            period = add_duration(first, parts[2]) - first
        else:
            first = add_duration(start_from, parts[1])
            period = first - start_from
    except TimerValueInvalid as exc:
        raise TimerValueInvalid(f"in the cycle {text!r}: {exc}") from None
    if period < MIN_CYCLE_PERIOD:
        raise TimerValueInvalid(
            f"{text!r} repeats more often than once a minute, the shortest cycle allowed"
        )
    return {"cycles": cycles, "next": first.isoformat(), "duration": period.total_seconds()}


def timer_text(my_task: Any, expression: str) -> str:
    if is_iso_literal(expression):
        return expression.strip()
    value = my_task.workflow.script_engine.evaluate(my_task, expression)
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


@contextlib.contextmanager
def failing_the_task(my_task: Any, definition: Any) -> Iterator[None]:
    """A timer whose value cannot be computed fails its task (an incident on the element,
    raised by the runtime), instead of an error escaping from the engine's stepping."""
    try:
        yield
    except Exception as exc:
        my_task._set_state(TaskState.ERROR)
        # Else the engine's next timer refresh meets the failed task again and raises.
        my_task.workflow.top_workflow.event_manager.remove_task(my_task)
        reason = str(getattr(exc, "error_msg", "") or exc).strip().rstrip(".")
        raise WorkflowTaskException(
            f"timer {definition.expression!r} has no valid value: {reason}",
            task=my_task,
            exception=exc,
        ) from exc


class DateTimer(TimeDateEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        due = my_task._get_internal_data("event_value")
        if due is None:
            with failing_the_task(my_task, self):
                due = parse_datetime(timer_text(my_task, self.expression)).isoformat()
            my_task._set_internal_data(event_value=due)
        if dt.datetime.fromisoformat(due) <= now():
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class DurationTimer(DurationTimerEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        due = my_task._get_internal_data("event_value")
        if due is None:
            with failing_the_task(my_task, self):
                due = add_duration(now(), timer_text(my_task, self.expression)).isoformat()
            my_task._set_internal_data(event_value=due)
        if dt.datetime.fromisoformat(due) <= now():
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class CycleTimer(CycleTimerEventDefinition):
    def cycle_complete(self, my_task: Any) -> bool:
        value = my_task._get_internal_data("event_value")
        if value is None:
            with failing_the_task(my_task, self):
                value = parse_cycle(timer_text(my_task, self.expression), now())
        ready = False
        if value["cycles"] != 0:
            due = dt.datetime.fromisoformat(value["next"])
            if due <= now():
                value["next"], skipped = _next_after(due, value["duration"], now())
                if value["cycles"] > 0:  # -1: endless
                    value["cycles"] = max(value["cycles"] - 1 - skipped, 0)
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        my_task._set_internal_data(event_value=value)
        return ready


def _next_after(due: dt.datetime, period_s: float, now: dt.datetime) -> tuple[str, int]:
    """The cycle's next due time after `now`, on its own grid, and how many were missed.

    Cycles missed while no worker ran (an outage of five reminder periods, say) fire once,
    not once per tick until caught up: one reminder or escalation stands for them and
    counts them as used, as a timer start event's schedule does (start_timers.advance).
    """
    period = dt.timedelta(seconds=period_s)
    following, skipped = due + period, 0
    if following <= now:
        skipped = (now - following) // period + 1
        following += period * skipped
    return following.isoformat(), skipped


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
