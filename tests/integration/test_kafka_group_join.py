"""A consumer-group member gets its partitions however short its polls are.

Every first join assigns from metadata the member has not fetched yet (kafka-python logs
"No partition metadata for topic"), so a second join follows at once. When that join
outlived one poll's timeout, kafka-python 3.0 forgot it was rejoining and the member held
no partition until restarted: a worker whose rebalance took longer than its poll timeout
(500 ms; a group of replicas waits for every member) consumed nothing.
"""

from __future__ import annotations

import time
import uuid

import pytest

from contractflow.events.kafka_bus import KafkaEventConsumer, ensure_topics
from tests.integration.test_hostile_messages import wait_for_partitions


@pytest.mark.kafka
def test_a_member_polling_with_short_timeouts_is_assigned_its_partitions(kafka_bootstrap):
    prefix = f"test-{uuid.uuid4().hex[:12]}."
    topic = prefix + "joined"
    ensure_topics(kafka_bootstrap, {topic}, partitions=3)
    wait_for_partitions(kafka_bootstrap, {topic})
    consumer = KafkaEventConsumer(kafka_bootstrap, prefix + "group", {topic}, "test-join")
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(consumer.assignment()) < 3:
            consumer.poll(1, 10)  # each join outlives many polls
        assert consumer.assignment() == {(topic, p) for p in range(3)}
    finally:
        consumer.close()
