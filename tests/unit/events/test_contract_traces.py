"""One contract's story is one trace: every event about a contract, whichever service,
human step, timer or restart records it, carries the trace id derived from the contract."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contractflow.db import make_engine, make_session_factory, unit_of_work
from contractflow.events.envelope import (
    CloudEvent,
    contract_traceparent,
    new_traceparent,
    trace_id_of,
)
from contractflow.events.outbox import Outbox, OutboxMessage
from contractflow.events.schemas import default_catalogue
from contractflow.migrate import upgrade
from tests.integration.harness import signed_event


@pytest.fixture
def outbox_db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'n.sqlite3'}")
    upgrade(engine, "negotiation")
    return make_session_factory(engine)


def test_events_of_one_contract_share_its_trace_and_keep_their_own_spans(outbox_db) -> None:
    outbox = Outbox(default_catalogue(), "cf.")
    signed = signed_event("C-7")
    cancelled = CloudEvent(
        "contract.cancelled.v1",
        "/negotiation",
        "C-7",
        {
            "contract_id": "C-7",
            "reason": "预算取消",
            "cancelled_by": "cm",
            "cancelled_at": "2027-01-05T10:00:00+08:00",
        },
        traceparent=new_traceparent(),  # a human step that began a trace of its own
    )
    other = signed_event("C-8")
    with unit_of_work(outbox_db) as session:
        outbox.record(session, signed)
    with unit_of_work(outbox_db) as session:
        outbox.record(session, cancelled)
        outbox.record(session, other)
    with outbox_db() as session:
        rows = {r.event_id: r for r in session.scalars(select(OutboxMessage))}
    c7 = trace_id_of(contract_traceparent("C-7"))
    assert rows[signed.id].trace_id == rows[cancelled.id].trace_id == c7
    assert rows[other.id].trace_id != c7
    sent = CloudEvent.from_json(rows[cancelled.id].payload)
    assert sent.traceparent.split("-")[2] == cancelled.traceparent.split("-")[2]  # its span


def test_an_event_not_about_a_contract_keeps_the_trace_it_was_given(outbox_db) -> None:
    outbox = Outbox(default_catalogue(), "cf.")
    employee = CloudEvent(
        "erp.employee.updated.v1",
        "/erp",
        "li.si",
        {"employee_id": "li.si", "name": "李四"},
    )
    with unit_of_work(outbox_db) as session:
        outbox.record(session, employee)
    with outbox_db() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert row.trace_id == employee.trace_id


def test_the_contract_trace_is_the_same_in_every_process() -> None:
    first = contract_traceparent("C-1")
    again = contract_traceparent("C-1", new_traceparent())
    assert trace_id_of(first) == trace_id_of(again) != trace_id_of(contract_traceparent("C-2"))
    assert trace_id_of(first) != "0" * 32
