"""Publishing an event whose data does not fit its schema fails, naming the fields."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from contractflow.db import make_engine, make_session_factory, unit_of_work
from contractflow.events.catalogue import EventDataInvalid, UnknownEventType
from contractflow.events.envelope import contract_traceparent, trace_id_of
from contractflow.events.outbox import Outbox, OutboxMessage
from contractflow.events.schemas import default_catalogue
from contractflow.migrate import upgrade
from tests.integration.harness import signed_event


@pytest.fixture
def outbox_db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'n.sqlite3'}")
    upgrade(engine, "negotiation")
    return make_session_factory(engine)


def test_every_event_type_is_versioned_and_mapped_to_a_topic():
    catalogue = default_catalogue()
    for event_type in catalogue:
        assert event_type.type.endswith(f".v{event_type.version}")
        assert event_type.topic and event_type.description


def test_invalid_data_is_refused_at_publish_time_naming_the_fields(outbox_db):
    outbox = Outbox(default_catalogue(), "cf.")
    event = signed_event()
    bad = event.with_data(
        {**event.data, "total": {"amount": "12.5.0", "currency": "yuan"}, "surprise": 1}
    )
    del bad.data["end_date"]
    with pytest.raises(EventDataInvalid) as caught, unit_of_work(outbox_db) as session:
        outbox.record(session, bad)
    assert set(caught.value.fields) == {"total", "end_date", "surprise"}
    assert set(caught.value.fields["total"]) == {"amount", "currency"}
    assert bad.id in str(caught.value)
    with outbox_db() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_unknown_event_type_is_refused(outbox_db):
    outbox = Outbox(default_catalogue(), "cf.")
    with pytest.raises(UnknownEventType), unit_of_work(outbox_db) as session:
        outbox.record(session, signed_event().caused("contract.vanished.v1", "/x", {}))


def test_outbox_row_is_keyed_by_contract_on_the_mapped_topic(outbox_db):
    outbox = Outbox(default_catalogue(), "cf.")
    event = signed_event("C-42")
    with unit_of_work(outbox_db) as session:
        outbox.record(session, event)
    with outbox_db() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert (row.topic, row.message_key, row.event_id) == ("cf.contract", "C-42", event.id)
    # The row carries the contract's trace (see test_contract_traces.py).
    assert row.trace_id == trace_id_of(contract_traceparent("C-42"))
