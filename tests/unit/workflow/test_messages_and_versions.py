"""Messages in and out, definition versions, restarts and start-up validation."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from contractflow.db import unit_of_work
from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import OutboxMessage
from contractflow.workflow import DefinitionInvalid, Scheduler, WorkflowRuntime
from contractflow.workflow.definitions import content_hash

from .conftest import FIXTURES, T0, fixture_text
from .helpers import complete, open_tasks, outbox_count, start, status

REVIEWS = ("legal_review", "technical_review", "finance_review")


def _to_reviews(runtime, sessions):
    iid = start(runtime, sessions, "pre_signing", "C-7", users=5, onsite=False)
    for element in ("requirements", "qualification", "drafting"):
        complete(runtime, sessions, iid, element)
    return iid


def test_thrown_message_is_published_through_the_outbox_in_the_step_transaction(
    make_runtime, sessions
):
    runtime = make_runtime("pre_signing.bpmn")
    iid = _to_reviews(runtime, sessions)
    for element in REVIEWS[:2]:
        complete(runtime, sessions, iid, element)
    last = open_tasks(runtime, sessions, iid)["finance_review"]
    version_before = status(sessions, iid)[1]

    with pytest.raises(RuntimeError, match="caller failed"), unit_of_work(sessions) as session:
        runtime.complete_task(session, last.id, {}, actor="alice", admin=True)
        assert session.scalar(select(OutboxMessage.event_type)) == "test.approval.requested.v1"
        raise RuntimeError("caller failed after the step")
    assert outbox_count(sessions) == 0  # rolled back together with the state change
    assert status(sessions, iid)[1] == version_before

    complete(runtime, sessions, iid, "finance_review")
    with unit_of_work(sessions) as session:
        row = session.scalars(select(OutboxMessage)).one()
    event = CloudEvent.from_json(row.payload)
    assert (event.type, event.subject, event.data) == (
        "test.approval.requested.v1",
        "C-7",
        {"contract_id": "C-7", "fee": 60},
    )
    assert row.message_key == "C-7"


def test_message_delivered_to_the_waiting_instance(make_runtime, sessions):
    runtime = make_runtime("pre_signing.bpmn")
    iid = _to_reviews(runtime, sessions)
    for element in REVIEWS:
        complete(runtime, sessions, iid, element)
    with unit_of_work(sessions) as session:
        assert (
            runtime.correlate(session, "approval_decided", "C-7", {"ok": 1}, "ev-1") == "delivered"
        )
    assert set(open_tasks(runtime, sessions, iid)) == {"signing"}
    with unit_of_work(sessions) as session:
        assert runtime.instance(session, iid).variables["approval"] == {"ok": 1}


def test_message_arriving_before_the_wait_is_held_then_delivered(make_runtime, sessions):
    runtime = make_runtime("pre_signing.bpmn")
    iid = _to_reviews(runtime, sessions)
    with unit_of_work(sessions) as session:
        assert runtime.correlate(session, "approval_decided", "C-7", {"ok": 2}, "ev-2") == "held"
        # the consumer may redeliver: holding is idempotent per event id
        assert runtime.correlate(session, "approval_decided", "C-7", {"ok": 2}, "ev-2") == "held"
    for element in REVIEWS:
        complete(runtime, sessions, iid, element)
    assert set(open_tasks(runtime, sessions, iid)) == {"signing"}
    with unit_of_work(sessions) as session:
        details = runtime.instance(session, iid)
        assert details.variables["approval"] == {"ok": 2}
        kinds = [(h.kind, (h.data or {}).get("held")) for h in details.history]
        assert ("message_received", True) in kinds
        assert runtime.expired_unmatched(session, T0 + dt.timedelta(days=30)) == []


def test_unmatched_message_is_reported_after_its_ttl(make_runtime, sessions, clock):
    runtime = make_runtime("pre_signing.bpmn")
    with unit_of_work(sessions) as session:
        runtime.correlate(session, "approval_decided", "NOBODY", {"x": 1}, "ev-lost")
    dead: list = []
    scheduler = Scheduler(runtime, sessions)
    assert scheduler.expire_messages(T0 + dt.timedelta(hours=5)) == []
    expired = scheduler.expire_messages(
        T0 + dt.timedelta(hours=6), dead_letter=lambda s, held: dead.append(held)
    )
    assert [h.event_id for h in expired] == ["ev-lost"] == [h.event_id for h in dead]
    assert "NOBODY" in expired[0].reason and "ev-lost" in expired[0].reason
    assert scheduler.expire_messages(T0 + dt.timedelta(days=1)) == []  # removed


def test_instance_started_on_v1_finishes_on_v1_after_v2_is_deployed(make_runtime, sessions):
    runtime = make_runtime("trivial.bpmn")
    old = start(runtime, sessions, "trivial")
    with unit_of_work(sessions) as session:
        v1 = runtime.deploy(session, "trivial.bpmn", fixture_text("trivial.bpmn"), "again")
        v2 = runtime.deploy(session, "trivial.bpmn", fixture_text("trivial_v2.bpmn"), "admin")
        assert (v1.sequence, v2.sequence) == (1, 2)  # identical content did not add a version
        assert v2.content_hash == content_hash(fixture_text("trivial_v2.bpmn"))
    new = start(runtime, sessions, "trivial")
    assert set(open_tasks(runtime, sessions, old)) == {"confirm"}
    assert set(open_tasks(runtime, sessions, new)) == {"confirm_v2"}
    restarted = make_runtime()  # a fresh spec cache must load v1 by id on demand
    complete(restarted, sessions, old, "confirm", {"approved": True})
    assert status(sessions, old)[0] == "completed"


def test_restarted_service_loses_no_waiting_instance(make_runtime, sessions, clock):
    first = make_runtime("pre_signing.bpmn", "timers.bpmn", cache=100)
    waiting_message = _to_reviews(first, sessions)
    for element in REVIEWS:
        complete(first, sessions, waiting_message, element)
    waiting_timer = start(
        first, sessions, "timers", reminder_count=0, deadline="2027-02-01T00:00:00Z"
    )
    del first

    second = make_runtime()  # same database, nothing in memory
    with unit_of_work(sessions) as session:
        assert second.correlate(session, "approval_decided", "C-7", {}, "ev-9") == "delivered"
    assert Scheduler(second, sessions).tick(T0 + dt.timedelta(days=1)) >= 1
    assert set(open_tasks(second, sessions, waiting_message)) == {"signing"}
    assert set(open_tasks(second, sessions, waiting_timer)) == {"escalated_review"}


def test_invalid_definition_stops_start_up_naming_file_and_element(
    make_runtime, sessions, tmp_path
):
    folder = tmp_path / "negotiation"
    folder.mkdir()
    (folder / "good.bpmn").write_text(fixture_text("trivial.bpmn"))
    (folder / "escape.bpmn").write_text(fixture_text("escape.bpmn"))
    broken = fixture_text("trivial.bpmn").replace('targetRef="end"', 'targetRef="missing"')
    (folder / "broken.bpmn").write_text(broken.replace('id="trivial"', 'id="broken"'))
    runtime = make_runtime()
    with pytest.raises(DefinitionInvalid) as caught, unit_of_work(sessions) as session:
        runtime.load_definitions(session, folder)
    message = str(caught.value)
    assert "negotiation/escape.bpmn: element 'sneaky_script'" in message
    assert "__subclasses__" in message
    assert "negotiation/escape.bpmn: element 'choose'" in message and "__import__" in message
    assert (
        "negotiation/broken.bpmn: element 'f2'" in message
        or "negotiation/broken.bpmn: element 'confirm'" in message
    )


def test_start_up_refuses_unbound_names(make_runtime, sessions, tmp_path):
    folder = tmp_path / "negotiation"
    folder.mkdir()
    (folder / "fees.bpmn").write_text(fixture_text("fees.bpmn"))
    bare = WorkflowRuntime("negotiation")
    with pytest.raises(DefinitionInvalid) as caught, unit_of_work(sessions) as session:
        bare.load_definitions(session, folder)
    assert "element 'compute_fees': service operation 'fees.compute' is not registered" in str(
        caught.value
    )
    assert "element 'approve_fee': form 'fee_approval' is not registered" in str(caught.value)
    runtime = make_runtime()
    with unit_of_work(sessions) as session:
        rows = runtime.load_definitions(session, folder, FIXTURES.parent / "missing")
    assert [r.file_name for r in rows] == ["negotiation/fees.bpmn"]


def test_history_audits_who_completed_what_with_which_data_and_channel(make_runtime, sessions):
    runtime = make_runtime("trivial.bpmn")
    iid = start(runtime, sessions, "trivial")
    task = open_tasks(runtime, sessions, iid)["confirm"]
    with unit_of_work(sessions) as session:
        runtime.complete_task(
            session,
            task.id,
            {"approved": True, "comment": "fine"},
            actor="bob",
            roles={"clerk"},
            channel="email",
        )
    with unit_of_work(sessions) as session:
        entry = next(h for h in runtime.history(session, iid) if h.kind == "task_completed")
    assert (entry.actor, entry.channel, entry.element_id) == ("bob", "email", "confirm")
    assert json.loads(json.dumps(entry.data)) == {"approved": True, "comment": "fine"}
    assert entry.at == T0
