"""Offsets of handled records reach the broker merged (at most every COMMIT_EVERY_S), still
soon on a quiet partition, and before a rebalance hands a partition to another member, so
its new owner does not start again from older offsets."""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from contractflow.events import kafka_bus
from contractflow.events.kafka_bus import KafkaEventConsumer, ensure_topics

pytestmark = pytest.mark.kafka


def _topic_with(bootstrap: str, partitions: int, per_partition: int) -> str:
    topic = f"test-commits-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, [topic], partitions=partitions)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for partition in range(partitions):
        for n in range(per_partition):
            producer.send(topic, f"v{partition}-{n}".encode(), partition=partition)
    producer.flush()
    producer.close()
    return topic


def _committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int | None]:
    reader = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return {p: reader.committed(TopicPartition(topic, p)) for p in range(partitions)}
    finally:
        reader.close(autocommit=False)


def _handle_all(consumer: KafkaEventConsumer, count: int, deadline_s: float = 60) -> None:
    """Poll and commit record by record, as the consumer loop does."""
    got, end = 0, time.monotonic() + deadline_s
    while got < count:
        assert time.monotonic() < end, f"only {got} of {count} records consumed in time"
        for record in consumer.poll(500, 1):
            consumer.commit({(record.topic, record.partition): record.offset + 1})
            got += 1


def test_commits_are_merged_yet_reach_the_broker_on_a_quiet_partition(kafka_bootstrap):
    topic = _topic_with(kafka_bootstrap, 1, 6)
    group = f"g-{topic}"
    consumer = KafkaEventConsumer(kafka_bootstrap, group, [topic], "test-commits")
    sent = []
    inner_commit = consumer._consumer.commit_async
    consumer._consumer.commit_async = lambda offsets, callback=None: (  # type: ignore[method-assign]
        sent.append(dict(offsets)),
        inner_commit(offsets, callback=callback),
    )[1]
    try:
        _handle_all(consumer, 6)
        assert len(sent) < 6, f"six records handled, {len(sent)} commits sent: not merged"
        end = time.monotonic() + 10
        while _committed(kafka_bootstrap, group, topic, 1)[0] != 6:
            assert time.monotonic() < end, "handled offsets never reached the broker"
            consumer.poll(200, 1)  # the worker keeps polling a quiet partition
    finally:
        consumer.close()


def test_a_member_commits_what_it_handled_before_a_rebalance_takes_it(kafka_bootstrap, monkeypatch):
    monkeypatch.setattr(kafka_bus, "COMMIT_EVERY_S", 3600.0)  # only a rebalance or close sends
    topic = _topic_with(kafka_bootstrap, 2, 3)
    group = f"g-{topic}"
    first = KafkaEventConsumer(kafka_bootstrap, group, [topic], "test-commits-1")
    second = None
    try:
        _handle_all(first, 6)
        second = KafkaEventConsumer(kafka_bootstrap, group, [topic], "test-commits-2")
        redelivered = []
        end = time.monotonic() + 60
        while not (first.assignment() and second.assignment()):
            assert time.monotonic() < end, "the second member never got a partition"
            first.poll(100, 10)
            redelivered += second.poll(100, 10)
        quiet_until = time.monotonic() + 3
        while time.monotonic() < quiet_until:
            redelivered += second.poll(200, 10)
        assert redelivered == [], "the new owner started again from older offsets"
        assert _committed(kafka_bootstrap, group, topic, 2) == {0: 3, 1: 3}
    finally:
        first.close()
        if second is not None:
            second.close()
