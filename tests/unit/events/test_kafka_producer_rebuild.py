"""A Kafka producer that stays broken after a broker hiccup is replaced, not reused.

Seen on a real stack: one service's relay failed every publish (KafkaTimeoutError, 21 in
a row, for over 8 minutes) while a fresh client to the same broker worked; only a restart
cleared it. The producer now closes its client and builds a new one after a few failed
publishes in a row.
"""

from __future__ import annotations

import logging

import pytest
from kafka.errors import KafkaTimeoutError
from prometheus_client import CollectorRegistry

from contractflow.events import kafka_bus
from contractflow.events.transport import PublishFailed


class Acknowledged:
    is_done = True
    exception = None

    def succeeded(self) -> bool:
        return True


class FakeKafkaProducer:
    """The first client built stays broken for good, as the wedged one did; later ones work."""

    built: list[FakeKafkaProducer] = []

    def __init__(self, **config) -> None:
        self.broken = not FakeKafkaProducer.built
        self.closed = False
        self.sent: list[bytes] = []
        self._sender = FakeSender()
        FakeKafkaProducer.built.append(self)

    def send(self, topic, key, value, headers):
        if self.broken or self.closed:
            raise KafkaTimeoutError("Failed to update metadata after 5.0 secs.")
        self.sent.append(value)
        return Acknowledged()

    def flush(self, timeout=None) -> None:
        pass

    def close(self, timeout=None) -> None:
        # As kafka-python's: the flush inside close() raises while records are pending,
        # before the I/O thread is stopped.
        if self.broken and not self._sender.forced:
            raise KafkaTimeoutError("Timeout waiting for future")
        self.closed = True


class FakeSender:
    forced = False

    def force_close(self) -> None:
        self.forced = True

    def join(self, timeout=None) -> None:
        pass


@pytest.fixture
def producer(monkeypatch):
    FakeKafkaProducer.built = []
    monkeypatch.setattr(kafka_bus, "KafkaProducer", FakeKafkaProducer)
    registry = CollectorRegistry()
    made = kafka_bus.KafkaEventProducer(
        "127.0.0.1:1", "renewal-worker", rebuild_after_failures=3, registry=registry
    )
    made.registry = registry
    return made


def message(n: int):
    return ("cf.renewal.events", b"C-1", f"event-{n}".encode(), [])


def test_a_producer_that_keeps_failing_is_rebuilt_and_publishing_recovers(producer):
    for n in range(3):
        with pytest.raises(PublishFailed):
            producer.publish([message(n)])

    producer.publish([message(3)])  # would fail forever on the first client

    first, second = FakeKafkaProducer.built
    assert first._sender.forced, "its I/O thread is stopped though records are pending"
    assert first.closed, "the wedged client is closed, not leaked"
    assert second.sent == [b"event-3"]
    assert producer.registry.get_sample_value("kafka_producer_rebuilds_total") == 1


def test_the_rebuild_is_logged_with_the_client_and_the_last_error(producer, caplog):
    with caplog.at_level(logging.WARNING, logger=kafka_bus.__name__):
        for n in range(3):
            with pytest.raises(PublishFailed):
                producer.publish([message(n)])
    [line] = [r.getMessage() for r in caplog.records if "building a new one" in r.getMessage()]
    assert "renewal-worker" in line
    assert "3 publishes in a row" in line
    assert "Failed to update metadata" in line


def test_a_success_in_between_starts_the_count_over(producer):
    with pytest.raises(PublishFailed):
        producer.publish([message(0)])
    with pytest.raises(PublishFailed):
        producer.publish([message(1)])
    FakeKafkaProducer.built[0].broken = False  # a hiccup the client recovered from itself
    producer.publish([message(2)])
    FakeKafkaProducer.built[0].broken = True
    with pytest.raises(PublishFailed):
        producer.publish([message(3)])

    assert len(FakeKafkaProducer.built) == 1, "two failures after a success: no rebuild yet"
    assert producer.registry.get_sample_value("kafka_producer_rebuilds_total") == 0


def test_a_rebuild_while_the_broker_is_unreachable_is_retried_on_the_next_publish(
    producer, monkeypatch
):
    class Unreachable(FakeKafkaProducer):
        def __init__(self, **config) -> None:
            raise kafka_bus.kafka_errors.NoBrokersAvailable()

    monkeypatch.setattr(kafka_bus, "KafkaProducer", Unreachable)
    for n in range(3):
        with pytest.raises(PublishFailed):
            producer.publish([message(n)])
    with pytest.raises(PublishFailed, match="NoBrokersAvailable"):
        producer.publish([message(3)])

    monkeypatch.setattr(kafka_bus, "KafkaProducer", FakeKafkaProducer)  # the broker is back
    producer.publish([message(4)])
    assert FakeKafkaProducer.built[-1].sent == [b"event-4"]
