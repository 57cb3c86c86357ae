"""Dead-letter topic: messages set aside with the reason, where they came from, and how often
they were tried; the CLI lists them and replays chosen ones to their original topic."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contractflow.events.transport import Headers, Producer, Record

PREFIX = "dlq."


def dead_letter_topic(topic_prefix: str, service: str) -> str:
    return f"{topic_prefix}deadletter.{service}"


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    error: str
    attempts: int


class DeadLetterPublisher:
    def __init__(self, producer: Producer, topic: str, consumer: str) -> None:
        self.producer = producer
        self.topic = topic
        self.consumer = consumer

    def publish(self, record: Record, letter: DeadLetter, now: dt.datetime) -> None:
        headers: Headers = [h for h in record.headers if not h[0].startswith(PREFIX)]
        headers += [
            (PREFIX + "reason", letter.reason.encode()),
            (PREFIX + "error", letter.error[:4000].encode()),
            (PREFIX + "original-topic", record.topic.encode()),
            (PREFIX + "original-partition", str(record.partition).encode()),
            (PREFIX + "original-offset", str(record.offset).encode()),
            (PREFIX + "attempts", str(letter.attempts).encode()),
            (PREFIX + "consumer", self.consumer.encode()),
            (PREFIX + "failed-at", now.isoformat().encode()),
        ]
        # A dead letter is only safe once the broker has it; until then the caller must not
        # commit the original offset, so this raises rather than logging and moving on.
        self.producer.publish([(self.topic, record.key, record.value or b"", headers)])


def describe(record: Record) -> dict[str, object]:
    """A dead-lettered record as the CLI shows it."""
    return {
        "offset": record.offset,
        "partition": record.partition,
        "reason": record.header(PREFIX + "reason"),
        "error": record.header(PREFIX + "error"),
        "original_topic": record.header(PREFIX + "original-topic"),
        "original_partition": record.header(PREFIX + "original-partition"),
        "original_offset": record.header(PREFIX + "original-offset"),
        "attempts": record.header(PREFIX + "attempts"),
        "failed_at": record.header(PREFIX + "failed-at"),
        "key": record.key.decode("utf-8", "replace") if record.key else None,
        "value_preview": (record.value or b"")[:200].decode("utf-8", "replace"),
    }


def replay_message(record: Record) -> tuple[str, bytes | None, bytes, Headers]:
    """The original message again, on its original topic, marked as a replay."""
    original = record.header(PREFIX + "original-topic")
    if not original:
        raise ValueError(f"dead letter at offset {record.offset} names no original topic")
    headers: Headers = [h for h in record.headers if not h[0].startswith(PREFIX)]
    headers.append((PREFIX + "replayed-from", f"{record.partition}:{record.offset}".encode()))
    return original, record.key, record.value or b"", headers
