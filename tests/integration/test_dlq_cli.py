"""`contractflow dlq list` and `dlq replay` as an operator runs them, against real Kafka:
a failed event is listed with where it came from and replayed to its original topic; so is
a workflow message that expired while held; one held before held messages kept their
event (only its payload is left) is listed and its replay refused clearly."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from contractflow.config import REPO_ROOT
from contractflow.events.deadletter import DeadLetter, DeadLetterPublisher, dead_letter_topic
from contractflow.events.kafka_bus import KafkaEventProducer, ensure_topics
from contractflow.events.topic_reader import read_topic
from contractflow.events.transport import Record
from contractflow.service_workflows import publish_unmatched
from contractflow.workflow.messages import HeldMessage

pytestmark = pytest.mark.kafka
NOW = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contractflow.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dlq_list_and_replay_through_the_cli(kafka_bootstrap, topic_prefix) -> None:
    letters = dead_letter_topic(topic_prefix, "negotiation")
    original = f"{topic_prefix}contract"
    ensure_topics(kafka_bootstrap, {letters, original}, partitions=1)
    producer = KafkaEventProducer(kafka_bootstrap, "test-dlq")
    failed = Record(original, 0, 41, b"C-1", b'{"not": "a cloudevent"}', [("x-trace", b"1")])
    DeadLetterPublisher(producer, letters, "negotiation").publish(
        failed, DeadLetter("invalid-envelope", "missing field specversion", attempts=1), NOW
    )
    legacy = HeldMessage("E-9", "approval_decided", "AR-1", {"outcome": "approved"}, NOW, NOW)
    publish_unmatched(producer, letters, "negotiation", legacy)
    event = b'{"specversion": "1.0", "id": "E-10", "type": "approval.decided.v1"}'
    carried = Record(original, 0, 57, b"AR-2", event, [])
    held = HeldMessage("E-10", "approval_decided", "AR-2", {}, NOW, NOW, origin=carried)
    publish_unmatched(producer, letters, "negotiation", held)
    producer.close()
    env = {**os.environ, "TOPIC_PREFIX": topic_prefix, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}

    listed = cli("dlq", "list", "negotiation", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["reason"], r["original_topic"], r["original_offset"]) for r in rows] == [
        ("invalid-envelope", original, "41"),
        ("unmatched-message", None, None),
        ("unmatched-message", original, "57"),
    ]
    assert "AR-1" in rows[1]["error"] and "3 dead letters" in listed.stderr
    assert "AR-2" in rows[2]["error"] and rows[2]["original_event_id"] == "E-10"

    replayed = cli("dlq", "replay", "negotiation", "--message", "0:0", env=env)
    assert replayed.returncode == 0, replayed.stderr
    [again] = read_topic(kafka_bootstrap, original)
    assert again.value == failed.value and again.key == b"C-1"
    assert again.header("x-trace") == "1" and again.header("dlq.replayed-from") == "0:0"

    refused = cli("dlq", "replay", "negotiation", "--message", "0:1", env=env)
    assert refused.returncode == 2
    assert "workflow message no instance waited for" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(read_topic(kafka_bootstrap, original)) == 1, "nothing else was sent"

    replayed = cli("dlq", "replay", "negotiation", "--message", "0:2", env=env)
    assert replayed.returncode == 0, replayed.stderr
    [_, expired] = read_topic(kafka_bootstrap, original)
    assert (expired.key, expired.value) == (b"AR-2", event), "the event that was held"
    assert expired.header("dlq.replayed-from") == "0:2"

    unknown = cli("dlq", "replay", "negotiation", "--message", "0:7", env=env)
    assert unknown.returncode == 2 and "no dead letter at 0:7" in unknown.stderr


def test_dlq_list_names_the_broker_it_cannot_reach_without_a_traceback(topic_prefix) -> None:
    env = {**os.environ, "TOPIC_PREFIX": topic_prefix, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    listed = cli("dlq", "list", "renewal", env=env)
    assert listed.returncode == 1
    assert f"cannot read {topic_prefix}deadletter.renewal from Kafka at 127.0.0.1:1" in (
        listed.stderr
    )
    assert "Traceback" not in listed.stderr


def test_the_erp_connectors_dead_letters_are_listed_and_replayed_like_a_services(
    kafka_bootstrap, topic_prefix
) -> None:
    # Its README tells an operator to bring its events back with `dlq replay`.
    letters = dead_letter_topic(topic_prefix, "erp_connector")
    original = f"{topic_prefix}contract"
    ensure_topics(kafka_bootstrap, {letters, original}, partitions=1)
    producer = KafkaEventProducer(kafka_bootstrap, "test-dlq-erp")
    failed = Record(original, 0, 5, b"C-2", b'{"specversion": "1.0"}', [])
    DeadLetterPublisher(producer, letters, "erp_connector").publish(
        failed, DeadLetter("milestone-not-in-ledger", "no milestone 2027-06-29", attempts=1), NOW
    )
    producer.close()
    env = {**os.environ, "TOPIC_PREFIX": topic_prefix, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}

    listed = cli("dlq", "list", "erp_connector", env=env)
    assert listed.returncode == 0, listed.stderr
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["reason"], row["original_offset"]) == ("milestone-not-in-ledger", "5")

    replayed = cli("dlq", "replay", "erp_connector", "--message", "0:0", env=env)
    assert replayed.returncode == 0, replayed.stderr
    [again] = read_topic(kafka_bootstrap, original)
    assert (again.key, again.value) == (b"C-2", failed.value)
