"""A workflow message nobody waited for, consumed from a topic, held until its TTL, then set
aside: its dead letter is the original event with the topic, partition, offset, event id
and reason, and replaying it sends it back where it came from, where it is handled anew —
delivered to the instance that waits for it by then."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, fields

from contractflow.events.catalogue import Catalogue, EventType
from contractflow.events.consumer import ConsumerLoop, EventProcessor, Outcome
from contractflow.events.deadletter import DeadLetterPublisher, replay_message
from contractflow.events.envelope import CloudEvent
from contractflow.events.memory_bus import InMemoryBroker, InMemoryConsumer, InMemoryProducer
from contractflow.service_workflows import unmatched_to_dead_letters
from contractflow.workflow import Scheduler

from .conftest import T0
from .helpers import complete, open_tasks, start

TOPIC = "test.approval"
LETTERS = "test.deadletter.negotiation"
CONSUMER = "negotiation-test"
REVIEWS = ("requirements", "qualification", "drafting", "legal_review")
REVIEWS += ("technical_review", "finance_review")


class Decided(Schema):
    contract_id = fields.String(required=True)
    ok = fields.Integer(required=True)


def consumer_of(broker: InMemoryBroker, runtime, sessions) -> ConsumerLoop:
    def hand_to_workflow(session, event: CloudEvent, data: dict[str, Any]) -> None:
        runtime.correlate(session, "approval_decided", data["contract_id"], data, event.id)

    processor = EventProcessor(
        CONSUMER,
        sessions,
        Catalogue([EventType("test.decided", 1, TOPIC, Decided, "a decision")]),
        {"test.decided.v1": hand_to_workflow},
        DeadLetterPublisher(InMemoryProducer(broker), LETTERS, CONSUMER),
        sleep=lambda _s: None,
    )
    return ConsumerLoop(InMemoryConsumer(broker, CONSUMER, {TOPIC}), processor)


def test_an_expired_held_message_is_dead_lettered_as_its_event_and_replays_where_it_came_from(
    make_runtime, sessions
):
    runtime = make_runtime("pre_signing.bpmn", ttl=dt.timedelta(hours=6))
    broker = InMemoryBroker(partitions=3)
    broker.create_topics({TOPIC, LETTERS})
    contract = f"C-{id(broker)}"
    decided = CloudEvent(
        type="test.decided.v1",
        source="/approval",
        subject=contract,
        data={"contract_id": contract, "ok": 1},
    )
    InMemoryProducer(broker).publish([(TOPIC, contract.encode(), decided.to_json(), [])])
    [sent] = broker.records(TOPIC)
    loop = consumer_of(broker, runtime, sessions)
    assert loop.run_once() == [Outcome.HANDLED]  # held: no instance waits for it yet

    expiry = unmatched_to_dead_letters(InMemoryProducer(broker), LETTERS, CONSUMER)
    scheduler = Scheduler(runtime, sessions)
    assert scheduler.expire_messages(T0 + dt.timedelta(hours=7), dead_letter=expiry)

    [letter] = broker.records(LETTERS)
    assert letter.value == sent.value and letter.key == sent.key, "the original event"
    assert letter.header("dlq.reason") == "unmatched-message"
    assert contract in letter.header("dlq.error") and decided.id in letter.header("dlq.error")
    assert letter.header("dlq.original-topic") == TOPIC
    assert letter.header("dlq.original-partition") == str(sent.partition)
    assert letter.header("dlq.original-offset") == str(sent.offset)
    assert letter.header("dlq.original-event-id") == decided.id

    # The workflow that should have received it is there now; the operator replays.
    iid = start(runtime, sessions, "pre_signing", contract, users=5, onsite=False)
    for element in REVIEWS:
        complete(runtime, sessions, iid, element)
    topic, key, value, headers = replay_message(letter)
    assert (topic, key, value) == (TOPIC, sent.key, sent.value)
    InMemoryProducer(broker).publish([(topic, key, value, headers)])
    assert loop.run_once() == [Outcome.HANDLED], "handled anew, not a duplicate"
    assert set(open_tasks(runtime, sessions, iid)) == {"signing"}

    # The replay was handled once: the same record again is a duplicate.
    InMemoryProducer(broker).publish([(topic, key, value, headers)])
    assert loop.run_once() == [Outcome.DUPLICATE]
