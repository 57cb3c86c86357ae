"""The event plumbing's promises, on every broker (in-memory, Kafka) × database (SQLite,
PostgreSQL): nothing lost, nothing applied twice, bad messages set aside with a reason."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from contractflow.db import utcnow
from contractflow.events.consumer import Outcome
from contractflow.events.deadletter import replay_message
from contractflow.events.envelope import CONTENT_TYPE
from contractflow.events.inbox import InboxMessage
from contractflow.events.outbox import OutboxMessage
from contractflow.events.relay import OutboxRelay
from services.renewal.models import WatchedContract
from tests.conftest import both_databases
from tests.integration.harness import ServicePair, drain, signed_event

pytestmark = both_databases


class SimulatedCrash(BaseException):
    """Stands for the process dying: not an Exception, so no handler catches it."""


def watched(services: ServicePair) -> dict[str, WatchedContract]:
    with services.renewal.sessions() as session:
        return {c.contract_id: c for c in session.scalars(select(WatchedContract))}


def inbox_count(services: ServicePair) -> int:
    with services.renewal.sessions() as session:
        return session.scalar(select(func.count()).select_from(InboxMessage))


def test_event_in_one_services_outbox_is_handled_by_another_exactly_once(services):
    first, second = signed_event(), signed_event()
    services.write(first, second)

    assert services.relay().relay_once() == 2
    assert services.relay().relay_once() == 0, "published rows must be marked, not resent"
    loop = services.consumer_loop()
    outcomes = drain(loop, lambda o: o.count(Outcome.HANDLED) == 2)

    contracts = watched(services)
    assert set(contracts) == {first.subject, second.subject}
    assert contracts[first.subject].provider_name == "云杉软件服务有限公司"
    assert contracts[first.subject].signed_event_id == first.id
    assert outcomes.count(Outcome.HANDLED) == 2
    assert inbox_count(services) == 2
    published = services.bus.records(services.negotiation.outbox.topic_for("contract.signed.v1"))
    assert [r.key for r in published if r.key == first.subject.encode()] == [first.subject.encode()]
    assert all(r.header("content-type") == CONTENT_TYPE for r in published)


def test_relay_marks_each_batch_with_the_next_fetch_and_the_last_before_returning(services):
    events = [signed_event("C-BATCHES", title=f"version {n}") for n in range(7)]
    services.write(*events)
    relay = OutboxRelay(services.negotiation.sessions, services.bus.producer(), batch_size=3)

    assert relay.relay_once() == 7
    with services.negotiation.sessions() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.published_at.is_(None))) == 0
    assert services.relay().relay_once() == 0, "every batch marked, the last one included"
    topic = services.negotiation.outbox.topic_for("contract.signed.v1")
    records = [r for r in services.bus.records(topic) if r.key == b"C-BATCHES"]
    ids = [json.loads(r.value)["id"] for r in sorted(records, key=lambda r: r.offset)]
    assert ids == [e.id for e in events]


def test_events_of_one_contract_keep_their_order_on_one_partition(services):
    contract_id = "C-ORDER-1"
    events = [signed_event(contract_id, title=f"version {n}") for n in range(20)]
    services.write(*events)
    services.relay().relay_once()

    topic = services.negotiation.outbox.topic_for("contract.signed.v1")
    records = [r for r in services.bus.records(topic) if r.key == contract_id.encode()]
    assert len({r.partition for r in records}) == 1
    ids = [json.loads(r.value)["id"] for r in sorted(records, key=lambda r: r.offset)]
    assert ids == [e.id for e in events]

    drain(services.consumer_loop(), lambda o: o.count(Outcome.HANDLED) == 20)
    assert watched(services)[contract_id].title == "version 19", "last event must win"


def test_relay_killed_after_publishing_before_marking_sent_still_has_one_effect(services):
    event = signed_event()
    services.write(event)

    class CrashAfterPublish:
        def __init__(self, inner):
            self.inner = inner

        def publish(self, messages):
            self.inner.publish(messages)
            raise SimulatedCrash

        def close(self):
            self.inner.close()

    with pytest.raises(SimulatedCrash):
        services.relay(CrashAfterPublish(services.bus.producer())).relay_once()
    with services.negotiation.sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.published_at is None, "the crash came before marking"

    # The restarted relay takes over once the dead one's lease has lapsed.
    later = utcnow() + dt.timedelta(minutes=1)
    restarted = OutboxRelay(
        services.negotiation.sessions, services.bus.producer(), clock=lambda: later
    )
    assert restarted.relay_once() == 1

    topic = services.negotiation.outbox.topic_for("contract.signed.v1")
    copies = [r for r in services.bus.records(topic) if r.key == event.subject.encode()]
    assert len(copies) == 2, "the event really was published twice"
    outcomes = drain(services.consumer_loop(), lambda o: len(o) == 2)
    assert sorted(o.value for o in outcomes) == ["duplicate", "handled"]
    assert list(watched(services)) == [event.subject]
    assert inbox_count(services) == 1


def test_consumer_killed_after_db_commit_before_offset_commit_has_one_effect(services):
    event = signed_event()
    services.write(event)
    services.relay().relay_once()
    kernel = services.renewal
    consumer = services.bus.consumer(kernel.consumer_group, kernel.subscribed_topics())

    class CrashOnCommit:
        def __init__(self, inner):
            self.inner = inner

        def poll(self, timeout_ms, max_records):
            return self.inner.poll(timeout_ms, max_records)

        def commit(self, next_offsets):
            raise SimulatedCrash

        def seek(self, positions):
            self.inner.seek(positions)

        def close(self):
            self.inner.close()

    crashing = services.consumer_loop(CrashOnCommit(consumer))
    with pytest.raises(SimulatedCrash):
        drain(crashing, lambda o: False)
    assert list(watched(services)) == [event.subject], "the DB commit happened"
    consumer.close()

    outcomes = drain(services.consumer_loop(), lambda o: Outcome.DUPLICATE in o)
    assert Outcome.HANDLED not in outcomes
    assert inbox_count(services) == 1


def test_failing_handler_is_retried_then_dead_lettered_and_the_consumer_moves_on(services):
    poison, healthy = signed_event(), signed_event()
    services.write(poison, healthy)
    services.relay().relay_once()
    calls: list[str] = []
    real = services.renewal.handlers["contract.signed.v1"]

    def flaky(session, event, data):
        calls.append(event.id)
        if event.id == poison.id:
            raise RuntimeError("provider master data missing")
        real(session, event, data)

    loop = services.consumer_loop(handlers={"contract.signed.v1": flaky}, max_attempts=3)
    outcomes = drain(loop, lambda o: len(o) == 2)

    assert sorted(o.value for o in outcomes) == ["dead-lettered", "handled"]
    assert calls.count(poison.id) == 3
    assert list(watched(services)) == [healthy.subject]
    [letter] = services.bus.records(services.renewal.dead_letter_topic)
    assert letter.header("dlq.reason") == "handler-failed"
    assert "provider master data missing" in letter.header("dlq.error")
    assert letter.header("dlq.attempts") == "3"
    assert letter.header("dlq.original-topic") == services.negotiation.outbox.topic_for(
        "contract.signed.v1"
    )
    assert letter.header("dlq.original-offset") is not None
    assert json.loads(letter.value)["id"] == poison.id

    # After the fix, replaying the dead letter applies it exactly once.
    loop.consumer.close()
    services.raw_publish([replay_message(letter)])
    drain(services.consumer_loop(), lambda o: Outcome.HANDLED in o)
    assert set(watched(services)) == {poison.subject, healthy.subject}


def test_a_thousand_malformed_messages_between_valid_ones_are_dead_lettered_with_reasons(services):
    topic = services.negotiation.outbox.topic_for("contract.signed.v1")
    valid = [signed_event() for _ in range(50)]
    wrong_data = signed_event().to_dict()
    wrong_data["data"]["end_date"] = "not a date"
    del wrong_data["data"]["provider"]
    unknown = signed_event().to_dict() | {"type": "contract.teleported.v1"}
    malformed = {
        "not-json": b"\x00\xffnot json at all",
        "not-cloudevent": json.dumps({"hello": "world"}).encode(),
        "unknown-type": json.dumps(unknown).encode(),
        "invalid-data": json.dumps(wrong_data).encode(),
        "oversized": signed_event(title="x" * 5000).to_json(),
    }
    messages, expected_reasons = [], []
    for n in range(1000):
        reason = list(malformed)[n % len(malformed)]
        messages.append((topic, f"K-{n}".encode(), malformed[reason], []))
        expected_reasons.append(reason)
        if n % 20 == 0:
            event = valid[n // 20]
            messages.append((topic, event.subject.encode(), event.to_json(), []))
    services.raw_publish(messages)

    loop = services.consumer_loop()
    loop.processor.max_event_bytes = 4096
    outcomes = drain(loop, lambda o: len(o) == 1050, deadline_s=180)

    assert outcomes.count(Outcome.HANDLED) == 50
    assert outcomes.count(Outcome.DEAD_LETTERED) == 1000
    assert set(watched(services)) == {e.subject for e in valid}
    letters = services.bus.records(services.renewal.dead_letter_topic)
    assert sorted(letter.header("dlq.reason") for letter in letters) == sorted(expected_reasons)
    assert all(letter.header("dlq.error") for letter in letters)
    invalid = next(x for x in letters if x.header("dlq.reason") == "invalid-data")
    assert "end_date" in invalid.header("dlq.error") and "provider" in invalid.header("dlq.error")


def test_known_event_this_service_does_not_handle_is_skipped_not_dead_lettered(services):
    cancelled = signed_event().caused(
        "contract.cancelled.v1",
        "/negotiation",
        {
            "contract_id": "C-9",
            "reason": "需求取消",
            "cancelled_by": "alice",
            "cancelled_at": "2026-11-26T10:00:00+08:00",
        },
        subject="C-9",
    )
    services.write(cancelled, signed_event())
    services.relay().relay_once()
    outcomes = drain(services.consumer_loop(), lambda o: len(o) == 2)
    assert sorted(o.value for o in outcomes) == ["handled", "ignored"]
    assert services.bus.records(services.renewal.dead_letter_topic) == []


def test_a_batch_holding_an_event_handled_before_applies_only_the_new_one(services):
    old, new = signed_event(), signed_event()
    services.write(old)
    relay, loop = services.relay(), services.consumer_loop()
    relay.relay_once()
    drain(loop, lambda o: o.count(Outcome.HANDLED) == 1)

    # The old event arrives again (a redelivery) in the same poll as a new one.
    topic = services.negotiation.outbox.topic_for("contract.signed.v1")
    headers = [("content-type", CONTENT_TYPE.encode())]
    services.bus.producer().publish([(topic, old.subject.encode(), old.to_json(), headers)])
    services.write(new)
    relay.relay_once()
    outcomes = drain(loop, lambda o: len(o) == 2)

    assert sorted(o.value for o in outcomes) == ["duplicate", "handled"]
    assert set(watched(services)) == {old.subject, new.subject}
    assert inbox_count(services) == 2
