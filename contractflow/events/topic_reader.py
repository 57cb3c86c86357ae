"""Reads a whole topic from the beginning without joining a consumer group (dead letters, tests)."""

from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition

from contractflow.events.kafka_bus import partitions_of
from contractflow.events.transport import Record


def read_topic(bootstrap_servers: str, topic: str, timeout_s: float = 10) -> list[Record]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        client_id="contractflow-topic-reader",
    )
    try:
        partitions = partitions_of(bootstrap_servers, [topic])[topic]
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not assigned:
            return []
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        end = consumer.end_offsets(assigned)
        records: list[Record] = []
        remaining = {tp for tp in assigned if end[tp] > 0}
        deadline = time.monotonic() + timeout_s
        while remaining and time.monotonic() < deadline:
            for tp, messages in consumer.poll(timeout_ms=500).items():
                for m in messages:
                    records.append(
                        Record(
                            tp.topic, tp.partition, m.offset, m.key, m.value, list(m.headers or [])
                        )
                    )
                    if m.offset + 1 >= end[tp]:
                        remaining.discard(tp)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()
