"""An event of a known type this service has no handler for is passed over cheaply: its
data is not loaded (it is not ours to judge) and no transaction is opened for it. Each
service reads its own events on the topics it shares (negotiation its contract.signed), so
this is a share of every worker's traffic."""

from __future__ import annotations

from marshmallow import Schema, fields

from contractflow.events.catalogue import Catalogue, EventType
from contractflow.events.consumer import EventProcessor, Outcome
from contractflow.events.deadletter import DeadLetterPublisher
from contractflow.events.envelope import CloudEvent
from contractflow.events.memory_bus import InMemoryBroker, InMemoryProducer
from contractflow.events.transport import Record


class Needed(Schema):
    amount = fields.Decimal(required=True)


CATALOGUE = Catalogue(
    [
        EventType("test.handled", 1, "t", Needed, "one this service handles"),
        EventType("test.other", 1, "t", Needed, "one another service handles"),
    ]
)


def record(offset: int, type_: str, data: dict) -> Record:
    event = CloudEvent(type=type_, source="/test", subject="C-1", data=data)
    return Record("t", 0, offset, b"C-1", event.to_json())


def processor(opened: list[int]) -> tuple[EventProcessor, InMemoryBroker]:
    broker = InMemoryBroker()
    broker.create_topics({"t", "t.dlq"})

    def sessions():
        opened.append(1)
        raise AssertionError("no transaction for events nobody here handles")

    handled = EventProcessor(
        "test",
        sessions,  # type: ignore[arg-type]
        CATALOGUE,
        {"test.handled.v1": lambda session, event, data: None},
        DeadLetterPublisher(InMemoryProducer(broker), "t.dlq", "test"),
    )
    return handled, broker


def test_a_batch_of_events_nobody_here_handles_opens_no_transaction_and_loads_no_data() -> None:
    opened: list[int] = []
    events, broker = processor(opened)
    # Data the other service's schema would refuse: not ours to dead-letter.
    batch = [record(n, "test.other.v1", {"amount": "not a number"}) for n in range(3)]
    assert events.process_batch(batch) == [Outcome.IGNORED] * 3
    assert events.process(record(3, "test.other.v1", {})) == Outcome.IGNORED
    assert opened == []
    assert broker.records("t.dlq") == []


def test_an_unknown_type_is_still_dead_lettered_with_its_reason() -> None:
    events, broker = processor([])
    assert events.process(record(0, "test.unheard.v1", {})) == Outcome.DEAD_LETTERED
    (letter,) = broker.records("t.dlq")
    assert letter.header("dlq.reason") == "unknown-type"


def test_the_data_of_a_handled_type_is_still_checked() -> None:
    events, broker = processor([])
    assert events.process(record(0, "test.handled.v1", {})) == Outcome.DEAD_LETTERED
    (letter,) = broker.records("t.dlq")
    assert letter.header("dlq.reason") == "invalid-data"
    assert "amount" in (letter.header("dlq.error") or "")
