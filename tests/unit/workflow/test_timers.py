"""Timers on a fake clock: reminders, escalation, dates, expressions and timer starts."""

from __future__ import annotations

import datetime as dt

from contractflow.db import unit_of_work
from contractflow.workflow import Scheduler
from contractflow.workflow.runtime import due_timers_query

from .conftest import T0
from .helpers import complete, open_tasks, start, status, timers


def _history(runtime, sessions, instance_id):
    with unit_of_work(sessions) as session:
        return [(h.kind, h.element_id) for h in runtime.history(session, instance_id)]


def test_reminder_fires_twice_then_escalation_interrupts(make_runtime, sessions, clock):
    runtime = make_runtime("timers.bpmn")
    scheduler = Scheduler(runtime, sessions)
    iid = start(runtime, sessions, "timers", reminder_count=0, deadline="2027-02-01T00:00:00Z")
    assert set(timers(sessions, iid)) == {"remind", "escalate"}
    assert timers(sessions, iid)["remind"] == T0 + dt.timedelta(hours=1)
    assert open_tasks(runtime, sessions, iid)["review"].due_at == T0 + dt.timedelta(days=2)

    assert scheduler.tick(T0 + dt.timedelta(minutes=59)) == 0
    assert scheduler.tick(T0 + dt.timedelta(hours=1)) == 1
    assert scheduler.tick(T0 + dt.timedelta(hours=2)) == 1
    assert scheduler.tick(T0 + dt.timedelta(hours=3)) == 0  # R2: only two reminders
    fired = [e for k, e in _history(runtime, sessions, iid) if k == "element_completed"]
    assert fired.count("count_reminder") == 2
    assert "review" in open_tasks(runtime, sessions, iid)

    assert scheduler.tick(T0 + dt.timedelta(days=1)) == 1
    tasks = open_tasks(runtime, sessions, iid)
    assert set(tasks) == {"escalated_review"}  # the review was interrupted
    assert tasks["escalated_review"].candidate_role == "manager"
    assert timers(sessions, iid) == {}
    complete(runtime, sessions, iid, "escalated_review")
    assert status(sessions, iid)[0] == "completed"


def test_date_and_expression_timers_wait_for_their_moment(make_runtime, sessions, clock):
    runtime = make_runtime("timers.bpmn")
    scheduler = Scheduler(runtime, sessions)
    iid = start(runtime, sessions, "timers", reminder_count=0, deadline="2027-02-01T00:00:00Z")
    complete(runtime, sessions, iid, "review")
    new_year = dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)  # 2027-01-01T00:00+08:00
    assert timers(sessions, iid) == {"wait_until_new_year": new_year}
    assert scheduler.tick(new_year - dt.timedelta(seconds=1)) == 0
    assert scheduler.tick(new_year) == 1
    deadline = dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
    assert timers(sessions, iid) == {"wait_for_deadline": deadline}
    assert scheduler.tick(deadline) == 1
    assert status(sessions, iid)[0] == "completed"
    assert timers(sessions, iid) == {}


def test_timer_start_event_waits_then_starts_the_work(make_runtime, sessions, clock):
    runtime = make_runtime("timer_start.bpmn")
    iid = start(runtime, sessions, "timer_start")
    assert open_tasks(runtime, sessions, iid) == {}
    assert timers(sessions, iid) == {"every_month": T0 + dt.timedelta(hours=1)}
    assert Scheduler(runtime, sessions).tick(T0 + dt.timedelta(hours=1)) == 1
    assert set(open_tasks(runtime, sessions, iid)) == {"evaluate"}


def test_a_user_step_after_the_due_time_fires_the_timer_too(make_runtime, sessions, clock):
    runtime = make_runtime("timers.bpmn")
    iid = start(runtime, sessions, "timers", reminder_count=0, deadline="2027-02-01T00:00:00Z")
    clock.advance(days=2)
    # The escalation is overdue; completing the review at this moment is too late.
    assert Scheduler(runtime, sessions).tick(clock.now) >= 1
    assert set(open_tasks(runtime, sessions, iid)) == {"escalated_review"}


def test_idle_tick_reads_only_the_due_range_of_the_timer_index(make_runtime, sessions, db_engine):
    runtime = make_runtime()
    with unit_of_work(sessions) as session:
        assert runtime.due_instances(session, T0, 10) == []
    if db_engine.dialect.name != "sqlite":
        return  # PostgreSQL's planner picks by statistics; the benchmark measures it
    compiled = due_timers_query(T0, 200).compile(db_engine)
    with db_engine.connect() as conn:
        plan = " ".join(
            str(row[-1])
            for row in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}",
                tuple(compiled.params[name] for name in compiled.positiontup or ()),
            )
        )
    assert "ix_workflow_timer_due_at" in plan and "SCAN" not in plan, plan
