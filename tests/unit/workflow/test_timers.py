"""Timers on a fake clock: reminders, escalation, dates, expressions and timer starts."""

from __future__ import annotations

import datetime as dt

from contractflow.db import unit_of_work
from contractflow.workflow import Scheduler
from contractflow.workflow.definitions import inspect, latest_definition_id
from contractflow.workflow.runtime import due_timers_query

from .conftest import FIXTURES, T0
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
    runtime = make_runtime("timer_start.bpmn")  # PT1H: one start an hour after deployment
    # Started by hand, a process whose only start is a timer waits for it...
    iid = start(runtime, sessions, "timer_start")
    assert open_tasks(runtime, sessions, iid) == {}
    assert timers(sessions, iid) == {"every_month": T0 + dt.timedelta(hours=1)}
    # ...and at that hour the scheduler fires its timer and starts the scheduled instance.
    assert Scheduler(runtime, sessions).tick(T0 + dt.timedelta(hours=1)) == 2
    assert set(open_tasks(runtime, sessions, iid)) == {"evaluate"}
    instances = _instances(runtime, sessions, "timer_start")
    assert len(instances) == 2
    assert all(set(open_tasks(runtime, sessions, i)) == {"evaluate"} for _at, i, _d in instances)
    assert Scheduler(runtime, sessions).tick(T0 + dt.timedelta(days=9)) == 0, "a one-off"


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


# -- timer start events: the scheduler starts instances ---------------------------------------
def _instances(runtime, sessions, process_id):
    with unit_of_work(sessions) as session:
        found = runtime.instances(session, process_id=process_id)
        return sorted((i.started_at, i.id, i.definition_id) for i in found)


def test_a_cycle_start_event_starts_one_instance_per_cycle_then_stops(
    make_runtime, sessions, clock
):
    runtime = make_runtime("cycle_start.bpmn")  # R3/P1D, deployed at T0
    day = dt.timedelta(days=1)
    assert Scheduler(runtime, sessions).tick(T0 + day - dt.timedelta(seconds=1)) == 0
    assert _instances(runtime, sessions, "daily_check") == []
    for n in (1, 2, 3):
        # A new Scheduler each day: the schedule lives in the database, not in a worker.
        assert Scheduler(runtime, sessions).tick(T0 + n * day) == 1
        assert Scheduler(runtime, sessions).tick(T0 + n * day) == 0, "started twice"
        started = _instances(runtime, sessions, "daily_check")
        assert len(started) == n
        newest = started[-1][1]
        assert set(open_tasks(runtime, sessions, newest)) == {"check"}
        assert timers(sessions, newest) == {}, "a scheduled instance must not wait again"
        assert ("started", None) in _history(runtime, sessions, newest)
    assert Scheduler(runtime, sessions).tick(T0 + 10 * day) == 0, "R3: three and no more"
    assert len(_instances(runtime, sessions, "daily_check")) == 3


def test_a_schedule_missed_while_no_worker_ran_starts_one_instance(make_runtime, sessions):
    runtime = make_runtime("cycle_start.bpmn")
    day = dt.timedelta(days=1)
    # Down from T0 until after the second cycle was due: one start stands for both...
    assert Scheduler(runtime, sessions).tick(T0 + 2 * day + dt.timedelta(hours=5)) == 1
    assert len(_instances(runtime, sessions, "daily_check")) == 1
    # ...and the third cycle is still due on its day.
    assert Scheduler(runtime, sessions).tick(T0 + 3 * day) == 1
    assert Scheduler(runtime, sessions).tick(T0 + 9 * day) == 0
    assert len(_instances(runtime, sessions, "daily_check")) == 2


def test_a_new_version_takes_the_schedule_over(make_runtime, sessions, clock):
    runtime = make_runtime("cycle_start.bpmn")
    v1 = _definition_id(runtime, sessions, "daily_check")
    clock.advance(hours=12)
    content = (FIXTURES / "cycle_start.bpmn").read_text().replace("R3/P1D", "R/P2D")
    with unit_of_work(sessions) as session:
        v2 = runtime.deploy(session, "cycle_start.bpmn", content, "admin").id
    assert v2 != v1
    # v1 would have started at T0 + 1 day; v2's schedule counts from its own deployment.
    assert Scheduler(runtime, sessions).tick(T0 + dt.timedelta(days=1, hours=1)) == 0
    assert Scheduler(runtime, sessions).tick(T0 + dt.timedelta(days=2, hours=12)) == 1
    [(_at, _iid, definition_id)] = _instances(runtime, sessions, "daily_check")
    assert definition_id == v2


def test_a_scheduled_start_takes_only_its_own_start_event(make_runtime, sessions):
    runtime = make_runtime("mixed_start.bpmn")  # a none start and a monthly timer start
    by_hand = start(runtime, sessions, "review")
    assert set(open_tasks(runtime, sessions, by_hand)) == {"review_on_request"}
    assert timers(sessions, by_hand) == {}, "started by hand: the schedule's timer is not its"
    assert Scheduler(runtime, sessions).tick(T0 + dt.timedelta(days=31)) == 1
    [scheduled] = [
        iid for _at, iid, _d in _instances(runtime, sessions, "review") if iid != by_hand
    ]
    assert set(open_tasks(runtime, sessions, scheduled)) == {"monthly_review"}
    complete(runtime, sessions, scheduled, "monthly_review")
    assert status(sessions, scheduled)[0] == "completed"


def test_a_start_timer_must_be_a_plain_iso_value():
    content = (
        (FIXTURES / "cycle_start.bpmn")
        .read_text()
        .replace(
            "<bpmn:timeCycle>R3/P1D</bpmn:timeCycle>", "<bpmn:timeDate>review_date</bpmn:timeDate>"
        )
    )
    found = inspect("cycle_start.bpmn", content)
    assert [(p.element_id, "plain ISO 8601" in p.reason) for p in found.problems] == [
        ("every_day", True)
    ]


def _definition_id(runtime, sessions, process_id):
    with unit_of_work(sessions) as session:
        return latest_definition_id(session, runtime.service, process_id)


def test_reminders_missed_during_an_outage_fire_once_then_keep_their_schedule(
    make_runtime, sessions, clock
):
    # Decided: a reminder missed while no worker ran is sent once when the worker is back,
    # not once per tick until caught up; the next one comes on the cycle's own schedule.
    runtime = make_runtime("timers.bpmn")  # reminders R2/PT1H, escalation after P1D
    scheduler = Scheduler(runtime, sessions)
    iid = start(runtime, sessions, "timers", reminder_count=0, deadline="2027-02-01T00:00:00Z")
    back = T0 + dt.timedelta(hours=1, minutes=30)  # the first reminder was missed
    assert scheduler.tick(back) == 1
    assert scheduler.tick(back + dt.timedelta(seconds=1)) == 0, "no burst one tick later"
    assert timers(sessions, iid)["remind"] == T0 + dt.timedelta(hours=2)
    assert scheduler.tick(T0 + dt.timedelta(hours=2)) == 1


def test_a_long_outage_sends_one_reminder_for_all_the_missed_ones(make_runtime, sessions, clock):
    runtime = make_runtime("timers.bpmn")
    scheduler = Scheduler(runtime, sessions)
    iid = start(runtime, sessions, "timers", reminder_count=0, deadline="2027-02-01T00:00:00Z")
    back = T0 + dt.timedelta(hours=5)  # both reminders (R2) were due while no worker ran
    assert sum(scheduler.tick(back + dt.timedelta(seconds=n)) for n in range(5)) == 1
    fired = [e for k, e in _history(runtime, sessions, iid) if k == "element_completed"]
    assert fired.count("count_reminder") == 1
    assert "remind" not in timers(sessions, iid)  # the cycle is used up
