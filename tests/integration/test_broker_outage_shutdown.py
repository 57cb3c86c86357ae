"""A worker stopping while the broker does not answer still stops in time: its final
offset commit and close each waited kafka-python's 30 s request timeout, a minute in all,
past the 30 s a pod gets between SIGTERM and SIGKILL. Both are bounded now; what was not
committed is redelivered later, a duplicate for the inbox. Restarts the suite's broker."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest
from kafka import KafkaProducer

from contractflow.events.kafka_bus import (
    AWAITED_COMMIT_TIMEOUT_MS,
    KafkaEventConsumer,
    ensure_topics,
)
from tests.conftest import require_env
from tests.integration.harness import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def broker(action: str) -> None:
    script = require_env("KAFKA_SCRIPT")
    subprocess.run(["bash", script, action], check=True, env=os.environ, timeout=180)


def test_a_consumer_closes_within_its_bound_while_the_broker_is_down(kafka_bootstrap):
    topic = f"test-close-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [topic], partitions=1)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    producer.send(topic, b"one").get(timeout=30)
    producer.close()
    consumer = KafkaEventConsumer(kafka_bootstrap, f"g-{topic}", [topic], "test-close")
    try:
        wait_until(lambda: bool(consumer.poll(500, 1)), deadline_s=60, step_s=0)
        consumer.commit({(topic, 0): 1})  # handled, not yet sent: close must try to send it
        broker("stop")
        started = time.monotonic()
        consumer.close()
        took = time.monotonic() - started
    finally:
        broker("start")
    bound = 2 * AWAITED_COMMIT_TIMEOUT_MS / 1000
    assert took < bound + 5, f"close took {took:.1f} s with the broker down (bound {bound} s)"
