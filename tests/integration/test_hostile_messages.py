"""Hostile messages on real topics (and the in-memory bus): every one dead-lettered with its
reason, the valid event behind them handled, nothing skipped — also for a message above
MAX_EVENT_BYTES yet below the broker's limit, whose dead letter must still fit."""

from __future__ import annotations

import time
import uuid

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from kafka import KafkaProducer

from contractflow.events.consumer import Outcome
from contractflow.events.deadletter import replay_message
from contractflow.events.kafka_bus import (
    KafkaEventConsumer,
    KafkaEventProducer,
    ensure_topics,
    partitions_of,
)
from contractflow.events.topic_reader import read_topic
from services.renewal.models import WatchedContract
from tests.integration.harness import KafkaBus, ServicePair, drain, signed_event
from tests.unit.events.test_hostile_batches import FAULTS, HOSTILE, BatchRig, Bus, faults

HOSTILE_WITH_REASONS = {
    **{name: value for name, (value, _) in HOSTILE.items()},
    "huge-int-in-data": signed_event(notice_period_days=0)
    .to_json()
    .replace(b'"notice_period_days":0', b'"notice_period_days":' + b"7" * 5_000),
    "deep-in-data": signed_event(title="T")
    .to_json()
    .replace(b'"title":"T"', b'"title":' + b"[" * 2_000 + b"]" * 2_000),
}


def wait_for_partitions(bootstrap: str, topics: set[str], deadline_s: float = 30) -> None:
    """Until the broker's metadata shows every topic's partitions: a consumer that joins
    before that may be assigned nothing for minutes (kafka-python)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        missing = {t for t, found in partitions_of(bootstrap, topics).items() if not found}
        if not missing:
            return
        time.sleep(0.1)
    raise AssertionError(f"topics without partitions after {deadline_s}s: {missing}")


def test_hostile_messages_then_a_valid_event_on_a_real_topic(services: ServicePair):
    if isinstance(services.bus, KafkaBus):
        wait_for_partitions(services.bus.bootstrap, services.renewal.all_topics())
    topic = services.negotiation.outbox.topic_for("contract.signed.v1")
    valid = signed_event()
    messages = [(topic, b"C-HOSTILE", value, []) for value in HOSTILE_WITH_REASONS.values()]
    messages.append((topic, b"C-HOSTILE", valid.to_json(), []))  # same partition, behind them
    services.raw_publish(messages)

    outcomes = drain(services.consumer_loop(), lambda o: Outcome.HANDLED in o)

    assert outcomes.count(Outcome.DEAD_LETTERED) == len(HOSTILE_WITH_REASONS)
    with services.renewal.sessions() as session:
        assert session.get(WatchedContract, valid.subject) is not None
    letters = services.bus.records(services.renewal.dead_letter_topic)
    assert len(letters) == len(HOSTILE_WITH_REASONS)
    errors = [letter.header("dlq.error") for letter in letters]
    assert sum("nested deeper than" in e for e in errors) == 3, errors
    assert sum("4300 digits" in e for e in errors) == 2, errors
    assert all(letter.header("dlq.reason") for letter in letters)
    assert {letter.value for letter in letters} == set(HOSTILE_WITH_REASONS.values())


@pytest.mark.kafka
def test_a_message_just_above_max_event_bytes_is_dead_lettered_and_does_not_block(
    kafka_bootstrap, database_factory, topic_prefix
):
    bus = KafkaBus(kafka_bootstrap)
    services = ServicePair(bus, database_factory, topic_prefix)
    try:
        wait_for_partitions(kafka_bootstrap, services.renewal.all_topics())
        topic = services.negotiation.outbox.topic_for("contract.signed.v1")
        limit = services.renewal.settings.max_event_bytes
        big = signed_event(title="大" * ((limit + 40_000) // 3))
        raw_value = big.to_json()
        assert limit < len(raw_value) < 1_048_576 - 1_000, "above our limit, below Kafka's"
        after = signed_event()
        # A raw kafka-python producer, as any other system on the topic would be.
        raw = KafkaProducer(bootstrap_servers=kafka_bootstrap)
        headers = [("content-type", b"application/cloudevents+json"), ("note", b"x" * 2_000)]
        raw.send(topic, key=b"C-BIG", value=raw_value, headers=headers)
        raw.send(topic, key=b"C-BIG", value=after.to_json())
        raw.flush()
        raw.close()

        outcomes = drain(services.consumer_loop(), lambda o: Outcome.HANDLED in o, deadline_s=60)

        assert outcomes == [Outcome.DEAD_LETTERED, Outcome.HANDLED]
        [letter] = bus.records(services.renewal.dead_letter_topic)
        assert letter.header("dlq.reason") == "oversized"
        assert str(limit) in letter.header("dlq.error")
        assert letter.header("dlq.truncated") == str(len(raw_value))
        assert letter.header("dlq.original-topic") == topic
        assert letter.header("dlq.original-offset") is not None
        assert letter.header("dlq.original-partition") is not None
        assert raw_value.startswith(letter.value)
        with pytest.raises(ValueError, match="the whole one is at"):
            replay_message(letter)
    finally:
        services.close()
        bus.close()


# On real Kafka a consumer that restarts after a crash polls nothing until the group has
# rebalanced, which takes seconds on a loaded machine: "idle" must mean much longer there.
# (A commit past an unfinished record is still caught at once, by the rig's commit check.)


def kafka_bus(bootstrap: str, closables: list) -> Bus:
    def producer():
        made = KafkaEventProducer(bootstrap, f"test-{uuid.uuid4().hex[:6]}")
        closables.append(made)
        return made

    def consumer(group, topics):
        return KafkaEventConsumer(bootstrap, group, topics, f"test-{uuid.uuid4().hex[:6]}")

    def create_topics(topics):
        ensure_topics(bootstrap, topics, partitions=3)
        wait_for_partitions(bootstrap, topics)

    return Bus(
        create_topics,
        producer,
        consumer,
        lambda topic: read_topic(bootstrap, topic),
    )


@pytest.fixture
def kafka_rig(kafka_bootstrap, tmp_path_factory):
    closables: list = []

    def make() -> BatchRig:
        return BatchRig(kafka_bus(kafka_bootstrap, closables), tmp_path_factory.mktemp("rig"))

    yield make
    for closable in closables:
        closable.close()


@pytest.mark.kafka
@pytest.mark.slow
@pytest.mark.parametrize("position", range(6))
def test_on_kafka_a_fault_at_every_position_of_a_batch(kafka_rig, position):
    # Each position gets two faults in turn, so all of them meet every position at least once.
    kinds = [f for f in FAULTS if f != "ok"]
    batch = [("ok", 0)] * 6
    batch[position] = (kinds[position % len(kinds)], position)
    batch[(position + 3) % 6] = (kinds[(position + 6) % len(kinds)], position + 1)
    rig = kafka_rig()
    rig.publish(batch)
    rig.run(deadline_s=90, idle_polls=150)
    rig.assert_outcome()


@pytest.mark.kafka
@pytest.mark.slow
@pytest.mark.parametrize("crashes", [1, 2])
@pytest.mark.parametrize("position", range(6))
def test_on_kafka_a_crash_in_the_decoder_commits_nothing_past_the_event(
    kafka_rig, position, crashes
):
    # The process dies decoding one event of a healthy batch (once, or again after its
    # restart): the rig checks every commit against what was finished, so a commit past
    # the event before it is applied fails here at once, at whichever position it sits.
    batch = [("ok", 0)] * 6
    batch[position] = ("crash-in-decoder", crashes - 1)
    rig = kafka_rig()
    rig.publish(batch)
    rig.run(deadline_s=90, idle_polls=150)
    rig.assert_outcome()
    assert rig.commits > 0


@pytest.mark.kafka
@pytest.mark.slow
@settings(
    max_examples=6,
    # No shrinking on real Kafka: each failing example waits out its deadline, and shrinking
    # would run dozens of them (the in-memory twin shrinks).
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=faults)
def test_on_kafka_any_mix_of_faults_loses_nothing_and_applies_nothing_twice(kafka_rig, batch):
    rig = kafka_rig()
    rig.publish(batch)
    rig.run(deadline_s=90, idle_polls=150)
    rig.assert_outcome()
