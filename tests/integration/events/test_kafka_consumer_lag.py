"""The Kafka consumer's lag answer: right after a read, then kept for LAG_EVERY_S, since
reading every partition's position costs milliseconds of CPU (kafka-python checks all
assigned partitions on each position() call) and the worker asks after every batch."""

from __future__ import annotations

import time
import uuid

import pytest

from contractflow.events import kafka_bus
from contractflow.events.kafka_bus import KafkaEventConsumer, KafkaEventProducer, ensure_topics

pytestmark = pytest.mark.kafka


def _poll_until(consumer: KafkaEventConsumer, count: int, deadline_s: float = 60) -> int:
    got, end = 0, time.monotonic() + deadline_s
    while got < count:
        assert time.monotonic() < end, f"only {got} of {count} records consumed in time"
        got += len(consumer.poll(500, count - got))
    return got


def test_lag_is_read_then_kept_for_a_second(kafka_bootstrap, monkeypatch):
    topic = f"test-lag-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic], partitions=1)
    producer = KafkaEventProducer(kafka_bootstrap, "test-lag")
    producer.publish([(topic, b"k", f"v{n}".encode(), []) for n in range(5)])
    producer.close()
    consumer = KafkaEventConsumer(kafka_bootstrap, f"g-{topic}", [topic], "test-lag")
    try:
        _poll_until(consumer, 2)
        assert consumer.lag() == {(topic, 0): 3}
        _poll_until(consumer, 3)
        monkeypatch.setattr(kafka_bus, "LAG_EVERY_S", 3600.0)
        assert consumer.lag() == {(topic, 0): 3}, "kept within the interval"
        monkeypatch.setattr(kafka_bus, "LAG_EVERY_S", 0.0)
        assert consumer.lag() == {(topic, 0): 0}, "read again once it passed"
    finally:
        consumer.close()
