"""Concurrent completion, optimistic saves, incidents and retries, restricted scripts."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from contractflow.db import unit_of_work
from contractflow.workflow import FormInvalid, InstanceConflict, NotAllowed, WorkflowError
from contractflow.workflow.scripts import RestrictedEnvironment, UnsafeScript, check_script
from tests.integration.harness import wait_until

from .conftest import FIXTURES
from .helpers import complete, open_tasks, start, status


def test_one_task_completed_by_two_clients_at_once_exactly_one_wins(make_runtime, sessions):
    runtime = make_runtime("trivial.bpmn")
    iid = start(runtime, sessions, "trivial")
    task = open_tasks(runtime, sessions, iid)["confirm"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def client(name: str) -> None:
        barrier.wait()
        try:
            with unit_of_work(sessions) as session:
                runtime.complete_task(
                    session, task.id, {"approved": True}, actor=name, roles={"clerk"}
                )
            outcomes.append("won")
        except WorkflowError as exc:  # the loser sees a conflict, whichever check caught it
            outcomes.append(f"lost with {exc.status}")

    threads = [threading.Thread(target=client, args=(n,)) for n in ("ann", "ben")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["lost with 409", "won"], outcomes
    state, version = status(sessions, iid)
    assert (state, version) == ("completed", 2)


def waiting_for_a_lock(engine) -> bool:
    """Whether some session of this database is blocked waiting for a lock (PostgreSQL)."""
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
        )


def test_a_cancel_racing_a_completion_gets_a_conflict_not_a_deadlock(
    make_runtime, sessions, db_engine
):
    # A completion holds its task row while its step runs (here: a service operation that
    # waits); a cancel of the same instance meanwhile must queue behind it and then lose
    # with 409 — not take the instance row first and deadlock with it.
    runtime = make_runtime()
    inside, release = threading.Event(), threading.Event()

    @runtime.service_tasks.operation("step.notify")
    def notify(call):
        inside.set()
        assert release.wait(30)
        return True

    with unit_of_work(sessions) as session:
        name = "confirm_then_notify.bpmn"
        runtime.deploy(session, name, (FIXTURES / name).read_text(), "test")
    iid = start(runtime, sessions, "confirm_then_notify")
    task = open_tasks(runtime, sessions, iid)["confirm"]
    outcomes: dict[str, str] = {}

    def run(name, action):
        try:
            with unit_of_work(sessions) as session:
                action(session)
            outcomes[name] = "done"
        except WorkflowError as exc:
            outcomes[name] = f"{type(exc).__name__} {exc.status}"
        except Exception as exc:  # a deadlock, say
            outcomes[name] = f"{type(exc).__name__}: {exc}"

    completer = threading.Thread(
        target=run,
        args=("complete", lambda s: runtime.complete_task(s, task.id, {}, actor="ann", admin=True)),
    )
    canceller = threading.Thread(
        target=run,
        args=("cancel", lambda s: runtime.cancel(s, iid, "withdrawn", actor="root")),
    )
    completer.start()
    assert inside.wait(30)
    canceller.start()
    if db_engine.dialect.name == "postgresql":
        # The cancel must be queued behind the completion's row lock before the completion
        # goes on (on SQLite it waits for the write lock before it reads anything).
        wait_until(lambda: waiting_for_a_lock(db_engine), deadline_s=30, step_s=0.01)
    release.set()
    completer.join(60)
    canceller.join(60)
    if db_engine.dialect.name == "postgresql":
        assert outcomes == {"complete": "done", "cancel": "InstanceConflict 409"}, outcomes
        assert status(sessions, iid)[0] == "active"
        assert set(open_tasks(runtime, sessions, iid)) == {"countersign"}
    else:  # SQLite runs writers one after the other: the cancel then sees the completion
        assert outcomes == {"complete": "done", "cancel": "done"}, outcomes
        assert status(sessions, iid)[0] == "cancelled"


def test_a_stale_writer_gets_a_conflict_not_a_lost_update(make_runtime, sessions):
    runtime = make_runtime("trivial.bpmn")
    iid = start(runtime, sessions, "trivial")
    with unit_of_work(sessions) as session:
        stale = runtime.store.load(session, iid)
    complete(runtime, sessions, iid, "confirm", {"approved": True})
    with pytest.raises(InstanceConflict), unit_of_work(sessions) as session:
        runtime.store.save(session, stale, stale.started_at)
    assert status(sessions, iid) == ("completed", 2)


def test_failing_service_task_raises_an_incident_and_a_retry_after_the_fix_continues(
    make_runtime, sessions
):
    failures = [True, True]
    runtime = make_runtime("fees.bpmn", fail_fees=failures)
    iid = start(runtime, sessions, "fees", users=3)
    assert status(sessions, iid)[0] == "incident"
    with unit_of_work(sessions) as session:
        [incident] = runtime.incidents(session)
    assert (incident.instance_id, incident.element_id, incident.attempts) == (
        iid,
        "compute_fees",
        1,
    )
    assert "fee service unavailable" in incident.error

    with unit_of_work(sessions) as session:
        runtime.retry_incident(session, incident.id, actor="admin")
    with unit_of_work(sessions) as session:
        [again] = runtime.incidents(session)
    assert again.attempts == 2 and status(sessions, iid)[0] == "incident"

    # the fee service is back (failures exhausted): the retry goes through
    with unit_of_work(sessions) as session:
        runtime.retry_incident(session, incident.id, actor="admin")
    assert status(sessions, iid)[0] == "active"
    with unit_of_work(sessions) as session:
        assert runtime.incidents(session) == []
        assert runtime.incidents(session, status="resolved")[0].attempts == 2
        assert runtime.instance(session, iid).variables["fee"] == 36
    assert set(open_tasks(runtime, sessions, iid)) == {"approve_fee"}


def test_claim_needs_the_candidate_role_and_reassign_needs_the_assignee(make_runtime, sessions):
    runtime = make_runtime("fees.bpmn")
    iid = start(runtime, sessions, "fees", users=1)
    task = open_tasks(runtime, sessions, iid)["approve_fee"]
    assert task.candidate_role == "finance" and task.form_key == "fee_approval"
    with pytest.raises(NotAllowed), unit_of_work(sessions) as session:
        runtime.claim(session, task.id, actor="eve", roles={"legal"})
    with unit_of_work(sessions) as session:
        runtime.claim(session, task.id, actor="fay", roles={"finance"})
    with pytest.raises(NotAllowed), unit_of_work(sessions) as session:
        runtime.complete_task(session, task.id, {"approved": True}, actor="gus", roles={"finance"})
    with pytest.raises(NotAllowed), unit_of_work(sessions) as session:
        runtime.reassign(session, task.id, "gus", actor="gus")
    with unit_of_work(sessions) as session:
        runtime.reassign(session, task.id, "gus", actor="fay")
    with unit_of_work(sessions) as session:
        runtime.complete_task(session, task.id, {"approved": True}, actor="gus")
    assert status(sessions, iid)[0] == "completed"
    with unit_of_work(sessions) as session:
        kinds = [h.kind for h in runtime.history(session, iid)]
    assert kinds.count("task_claimed") == 1 and kinds.count("task_reassigned") == 1


@pytest.mark.parametrize(
    ("actor", "roles", "data", "refusal"),
    [
        ("eve", {"legal"}, {"approved": True}, NotAllowed),
        ("fay", {"finance"}, {"approved": "perhaps"}, FormInvalid),
    ],
    ids=["wrong-role", "bad-form"],
)
def test_a_refused_completion_leaves_the_task_open_in_a_transaction_that_goes_on(
    make_runtime, sessions, actor, roles, data, refusal
):
    # The completion marks the row as it reads it; a refusal must take the mark back even
    # when the caller catches the error and commits what else it did.
    runtime = make_runtime("fees.bpmn")
    iid = start(runtime, sessions, "fees", users=1)
    task = open_tasks(runtime, sessions, iid)["approve_fee"]
    # unit_of_work outside: the error is caught inside it, so the transaction commits.
    with unit_of_work(sessions) as session, pytest.raises(refusal):
        runtime.complete_task(session, task.id, data, actor=actor, roles=roles)
    after = open_tasks(runtime, sessions, iid)["approve_fee"]
    assert (after.status, after.assignee, after.completed_by) == ("open", None, None)
    with unit_of_work(sessions) as session:
        runtime.complete_task(session, task.id, {"approved": True}, actor="fay", roles={"finance"})
    assert status(sessions, iid)[0] == "completed"


def test_cancel_closes_every_wait(make_runtime, sessions):
    runtime = make_runtime("timers.bpmn")
    iid = start(runtime, sessions, "timers", reminder_count=0, deadline="2027-02-01T00:00:00Z")
    with unit_of_work(sessions) as session:
        runtime.cancel(session, iid, "contract withdrawn", actor="admin")
    with unit_of_work(sessions) as session:
        details = runtime.instance(session, iid)
        assert (details.summary.status, details.summary.end_reason) == (
            "cancelled",
            "contract withdrawn",
        )
        assert (
            runtime.due_instances(session, details.summary.started_at.replace(year=2100), 10) == []
        )
    assert open_tasks(runtime, sessions, iid) == {}
    with pytest.raises(WorkflowError), unit_of_work(sessions) as session:
        runtime.cancel(session, iid, "twice", actor="admin")


@pytest.mark.parametrize(
    "source",
    [
        "().__class__.__base__.__subclasses__()",
        "import os",
        "from os import system",
        "open('/etc/passwd').read()",
        "eval('1')",
        "getattr(x, 'y')",
        "x = [c for c in ().__class__.__mro__]",
        "g = (i for i in [1]); f = g.gi_frame.f_back",
        "'{0.__class__}'.format(1)",
        "type(x)",
        "__builtins__",
        "breakpoint()",
    ],
)
def test_script_escapes_are_rejected(source):
    with pytest.raises(UnsafeScript):
        check_script(source)


def test_task_data_cannot_replace_the_restricted_builtins():
    environment = RestrictedEnvironment()
    context = {"__builtins__": {}, "n": 2}
    # scripts are checked again before they are first compiled in this process
    with pytest.raises(UnsafeScript):
        environment.execute("f = open", context)
    environment.execute("m = max(n, 3) * 2", context)  # data's __builtins__ was ignored
    assert context["m"] == 6 and "__builtins__" not in context


def test_a_stale_step_whose_rows_collide_with_the_winners_gets_a_conflict(make_runtime, sessions):
    """The step's writes go out together: the stale writer's human task INSERT fails on the
    row the winner wrote, but what it must hear is the lost version race."""
    from uuid import UUID

    from contractflow.workflow.steps import Step

    runtime = make_runtime("pre_signing.bpmn")
    iid = start(runtime, sessions, "pre_signing", users=1, onsite=True)
    with unit_of_work(sessions) as session:
        stale = runtime.store.load(session, iid)
    task_id = open_tasks(runtime, sessions, iid)["requirements"].id
    complete(runtime, sessions, iid, "requirements", {"approved": True})
    assert set(open_tasks(runtime, sessions, iid)) == {"qualification"}

    def complete_stale(step: Step) -> None:
        task = stale.workflow.get_task_from_id(UUID(task_id))
        task.run()
        step.completed_tasks.add(task_id)

    with pytest.raises(InstanceConflict), unit_of_work(sessions) as session:
        runtime.stepper.run(Step(session, stale, stale.started_at, "bob", "api"), complete_stale)
    assert status(sessions, iid) == ("active", 2)
    assert set(open_tasks(runtime, sessions, iid)) == {"qualification"}


# A server connection to lose exists on PostgreSQL only: no SQLite variant is generated.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_step_on_a_dropped_connection_fails_and_the_retry_gets_a_fresh_one(
    make_runtime, sessions
):
    """Steps talk to psycopg directly on PostgreSQL: a lost connection must still be seen
    by the pool (no pre-ping: the caller's retry is what recovers)."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    engine = sessions.kw["bind"]
    assert engine.dialect.name == "postgresql"
    runtime = make_runtime("pre_signing.bpmn")
    iid = start(runtime, sessions, "pre_signing", users=1, onsite=True)
    task = open_tasks(runtime, sessions, iid)["requirements"]
    # Every pooled connection of the test database goes (whichever the next step gets).
    killer = sa.create_engine(engine.url, poolclass=NullPool)
    with killer.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    killer.dispose()
    with pytest.raises(sa.exc.DBAPIError) as failure, unit_of_work(sessions) as session:
        runtime.complete_task(session, task.id, {"approved": True}, actor="a", admin=True)
    assert failure.value.connection_invalidated
    with unit_of_work(sessions) as session:
        runtime.complete_task(session, task.id, {"approved": True}, actor="a", admin=True)
    assert set(open_tasks(runtime, sessions, iid)) == {"qualification"}


SEES_COMPLETION = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://contractflow.example/bpmn">
  <bpmn:process id="sees_completion" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="decide"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:serviceTask id="look">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="tasks.look" resultVariable="seen">
          <spiffworkflow:parameters />
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:userTask id="after"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide" />
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="look" />
    <bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="after" />
    <bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_service_operation_in_a_completion_step_sees_the_task_row_completed(
    make_runtime, sessions
):
    """Code running inside the step (the approval service's close_level) reads the task
    row the step completes: it must already say completed, by whom."""
    from contractflow.workflow import TaskFilter

    runtime = make_runtime()
    seen: list[tuple[str, str, str | None]] = []

    @runtime.service_tasks.operation("tasks.look")
    def look(call):
        rows = runtime.tasks(
            call.step.session,
            TaskFilter(instance_id=call.step.instance_id, status=("completed",)),
        )
        seen.extend((t.element_id, t.status, t.completed_by) for t in rows)
        return len(rows)

    with unit_of_work(sessions) as session:
        runtime.deploy(session, "sees_completion.bpmn", SEES_COMPLETION, "test")
    iid = start(runtime, sessions, "sees_completion")
    complete(runtime, sessions, iid, "decide", actor="carol")
    assert seen == [("decide", "completed", "carol")]
    assert set(open_tasks(runtime, sessions, iid)) == {"after"}
