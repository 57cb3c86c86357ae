"""Hostile timer values: refused at deployment with the element id and a sentence, fast,
in every place a timer can stand; an expression that computes one at run time opens an
incident on the element instead of failing the request."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from contractflow.db import unit_of_work
from contractflow.workflow import DefinitionInvalid
from contractflow.workflow.definitions import inspect
from contractflow.workflow.timers import MAX_TIMER_SPAN, add_duration, parse_cycle

from . import hostile_documents as docs
from .conftest import T0
from .helpers import start, status

TOO_LONG = "longer than the maximum timer span of 10 years"
NOT_A_DURATION = "is not an ISO 8601 duration"
OUTSIDE = "outside the dates a timer may use"
NOT_A_CYCLE = "is not a cycle"

DURATIONS = {
    "P99999999Y": TOO_LONG,
    "P8000Y": TOO_LONG,
    "PT99999999999H": TOO_LONG,
    "P999999999999M": TOO_LONG,
    "PT999999999999S": TOO_LONG,
    "P10Y1D": TOO_LONG,
    "P3654D": TOO_LONG,
    "P523W": TOO_LONG,
    "P1Y99999999999D": TOO_LONG,
    "PT": "duration with no length",
    "P": "duration with no length",
    "P1X": NOT_A_DURATION,
    "P1D2H": NOT_A_DURATION,
    "PT1D": NOT_A_DURATION,
    "P-1D": NOT_A_DURATION,
    "P1DT": "has a T but no hours",
    "P1.5Y2M": "only the last unit",
    "P" + "9" * 5000 + "D": NOT_A_DURATION,
}
DATES = {
    "0001-01-01T00:00:00+14:00": OUTSIDE,
    "9999-12-31T23:59:59-14:00": OUTSIDE,
    "1969-12-31T23:59:59Z": OUTSIDE,
    "2200-01-01T00:00:00Z": OUTSIDE,
    "2027-01-01": "has no timezone",
    "2027-13-01T00:00:00Z": "is not an ISO 8601 date-time",
    "2027-01-01T25:00:00Z": "is not an ISO 8601 date-time",
}
CYCLES = {
    "R/P99999999Y": TOO_LONG,
    "R3/PT99999999999H": TOO_LONG,
    "R-3/P1D": NOT_A_CYCLE,
    "R+3/P1D": NOT_A_CYCLE,
    "R3.5/P1D": NOT_A_CYCLE,
    "R0/P1D": "repeats 0 times",
    "R99999999/P1D": "repeats 99999999 times",
    "R" + "9" * 5000 + "/P1D": "times; a cycle repeats 1 to",
    "R/PT1S": "more often than once a minute",
    "R/PT0S": "more often than once a minute",
    "R/PT": "duration with no length",
    "R3/0001-01-01T00:00:00+14:00/P1D": OUTSIDE,
    "R3/2027-01-01T00:00:00Z/P99999999Y": TOO_LONG,
    "R3/2027-01-01T00:00:00Z/P1D/P1D": NOT_A_CYCLE,
}
PLACES = {
    "intermediate": (docs.catch_timer, "wait"),
    "start": (docs.start_timer, "tick"),
    "boundary": (docs.boundary_timer, "remind"),
}
CASES = [
    (kind, value, expected, place)
    for kind, table in (("duration", DURATIONS), ("date", DATES), ("cycle", CYCLES))
    for value, expected in table.items()
    for place in PLACES
]


@pytest.mark.parametrize(("kind", "value", "expected", "place"), CASES)
def test_a_hostile_timer_value_is_refused_naming_its_element(kind, value, expected, place):
    build, element = PLACES[place]
    began = time.monotonic()
    found = inspect("negotiation/hostile.bpmn", build(kind, value))
    assert time.monotonic() - began < 2, "validation must not step through the calendar"
    assert [(p.element_id, expected in p.reason) for p in found.problems] == [(element, True)], [
        str(p) for p in found.problems
    ]


@pytest.mark.parametrize(
    "value",
    ["P99999999Y", "PT", "P8000Y", "soon", "P1X", "R/P1D", "2027-01-01T00:00:00Z", "P1D", ""],
)
def test_a_task_due_in_must_be_a_bounded_duration(value):
    found = inspect("negotiation/hostile.bpmn", docs.due_in(value))
    if value == "P1D":
        assert found.problems == []
        return
    if value == "":
        assert found.problems == []  # no dueIn: no due date
        return
    [problem] = found.problems
    assert problem.element_id == "review" and problem.reason.startswith("dueIn property:")


def test_a_constant_expression_is_checked_as_the_value_it_is():
    found = inspect("negotiation/hostile.bpmn", docs.catch_timer("duration", '"P99999999Y"'))
    assert [(p.element_id, TOO_LONG in p.reason) for p in found.problems] == [("wait", True)]
    assert inspect("negotiation/ok.bpmn", docs.catch_timer("duration", '"P3D"')).problems == []


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("duration", "P10Y"),
        ("duration", "P3653D"),
        ("duration", "PT87672H"),
        ("duration", "P1Y2M10DT2H30M"),
        ("duration", "PT0.5S"),
        ("duration", "p30d"),
        ("date", "2027-01-01T00:00:00+08:00"),
        ("date", "2199-12-31T23:59:59Z"),
        ("cycle", "R/P1M"),
        ("cycle", "R100000/PT1M"),
        ("cycle", "R3/2027-01-01T00:00:00Z/P1D"),
    ],
)
def test_values_within_the_bounds_deploy(kind, value):
    for build, _element in PLACES.values():
        assert inspect("negotiation/ok.bpmn", build(kind, value)).problems == []


def test_the_bounds_hold_from_any_start():
    for start_at in (
        T0,
        dt.datetime(2196, 2, 29, tzinfo=dt.UTC),
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    ):
        assert add_duration(start_at, "P10Y") - start_at <= MAX_TIMER_SPAN
        assert parse_cycle("R/P10Y", start_at)["duration"] <= MAX_TIMER_SPAN.total_seconds()


@pytest.mark.parametrize(
    ("kind", "expression", "variables", "expected"),
    [
        ("duration", "soon", {}, "soon"),
        ("duration", "wait_for", {"wait_for": "P99999999Y"}, TOO_LONG),
        ("duration", "wait_for", {"wait_for": "PT"}, "no length"),
        ("duration", "wait_for", {"wait_for": 12}, NOT_A_DURATION),
        ("date", "deadline", {"deadline": "0001-01-01T00:00:00+14:00"}, OUTSIDE),
        ("date", "deadline", {"deadline": "tomorrow"}, "not an ISO 8601 date-time"),
        ("cycle", "every", {"every": "R-3/P1D"}, NOT_A_CYCLE),
        ("cycle", "every", {"every": "R/P99999999Y"}, TOO_LONG),
    ],
)
def test_an_expression_without_a_valid_timer_value_opens_an_incident(
    make_runtime, sessions, kind, expression, variables, expected
):
    runtime = make_runtime()
    with unit_of_work(sessions) as session:
        runtime.deploy(session, "negotiation/w.bpmn", docs.catch_timer(kind, expression), "t")
    began = time.monotonic()
    iid = start(runtime, sessions, "hostile", **variables)  # answers, does not raise
    assert time.monotonic() - began < 5
    assert status(sessions, iid)[0] == "incident"
    with unit_of_work(sessions) as session:
        [incident] = runtime.incidents(session, instance_id=iid)
    assert incident.element_id == "wait"
    assert expected in incident.error and repr(expression) in incident.error


def test_a_timer_value_that_would_loop_for_hours_never_reaches_the_store(make_runtime, sessions):
    runtime = make_runtime()
    for value, build in (
        ("P99999999Y", docs.catch_timer),
        ("P99999999Y", docs.start_timer),
        ("R/P99999999Y", docs.boundary_timer),
    ):
        kind = "cycle" if value.startswith("R") else "duration"
        began = time.monotonic()
        with pytest.raises(DefinitionInvalid) as refused, unit_of_work(sessions) as session:
            runtime.deploy(session, "negotiation/hostile.bpmn", build(kind, value), "t")
        assert time.monotonic() - began < 2
        assert TOO_LONG in str(refused.value)
