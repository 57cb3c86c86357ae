"""Dead-letter topic: messages set aside with the reason, where they came from, and how often
they were tried; the CLI lists them and replays chosen ones to their original topic."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from contractflow.events.transport import Headers, Producer, Record

PREFIX = "dlq."
MAX_ERROR_BYTES = 4000
# Original headers and key are copied while they are of a sane size; a hostile one is not.
MAX_COPIED_HEADER_BYTES = 16_384
MAX_KEY_BYTES = 1024
# Kafka's record and batch framing beyond key, value and headers (generous upper bounds).
RECORD_OVERHEAD_BYTES = 512
RECORD_OVERHEAD_PER_HEADER = 10


def dead_letter_topic(topic_prefix: str, service: str) -> str:
    return f"{topic_prefix}deadletter.{service}"


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    error: str
    attempts: int
    event_id: str | None = None  # when known: the operator finds the event by it


class DeadLetterPublisher:
    """Sets records aside; a dead letter always fits where an event fits.

    A record too large for its dead letter (it may be above MAX_EVENT_BYTES yet below the
    broker's limit, and the letter adds headers) would fail to publish on every retry and
    block its partition. So the letter never exceeds `max_bytes`: when the original does
    not fit, its value is cut to what does, marked `dlq.truncated` with the original's size
    and SHA-256; oversized original headers or key give way the same way. The original is
    still at the topic, partition and offset the letter names.
    """

    def __init__(
        self, producer: Producer, topic: str, consumer: str, max_bytes: int = 1_000_000
    ) -> None:
        self.producer = producer
        self.topic = topic
        self.consumer = consumer
        self.max_bytes = max_bytes

    def publish(self, record: Record, letter: DeadLetter, now: dt.datetime) -> None:
        ours: Headers = [
            (PREFIX + "reason", _cut(letter.reason, 200)),
            (PREFIX + "error", _cut(letter.error, MAX_ERROR_BYTES)),
            (PREFIX + "original-topic", record.topic.encode()),
            (PREFIX + "original-partition", str(record.partition).encode()),
            (PREFIX + "original-offset", str(record.offset).encode()),
            (PREFIX + "attempts", str(letter.attempts).encode()),
            (PREFIX + "consumer", self.consumer.encode()),
            (PREFIX + "failed-at", now.isoformat().encode()),
        ]
        if letter.event_id is not None:
            ours.append((PREFIX + "original-event-id", _cut(letter.event_id, 200)))
        key, value, headers = self.fit(record, ours)
        # A dead letter is only safe once the broker has it; until then the caller must not
        # commit the original offset, so this raises rather than logging and moving on.
        self.producer.publish([(self.topic, key, value, headers)])

    def fit(self, record: Record, ours: Headers) -> tuple[bytes | None, bytes, Headers]:
        """Key, value and headers of the letter, at most `max_bytes` in all."""
        key, value = record.key, record.value or b""
        copied: Headers = [h for h in record.headers if not h[0].startswith(PREFIX)]
        if _headers_size(copied) > MAX_COPIED_HEADER_BYTES:
            ours.append((PREFIX + "original-headers-dropped", str(len(copied)).encode()))
            copied = []
        if key is not None and len(key) > MAX_KEY_BYTES:
            ours.append((PREFIX + "original-key-sha256", hashlib.sha256(key).hexdigest().encode()))
            key = key[:MAX_KEY_BYTES]
        headers = copied + ours
        room = self.max_bytes - RECORD_OVERHEAD_BYTES - len(key or b"") - _headers_size(headers)
        if len(value) > room:
            headers += [
                (PREFIX + "truncated", str(len(value)).encode()),
                (PREFIX + "original-sha256", hashlib.sha256(value).hexdigest().encode()),
            ]
            room -= 2 * RECORD_OVERHEAD_PER_HEADER + 128  # the two headers just added
            value = value[: max(room, 0)]
        return key, value, headers


def _cut(text: str, limit: int) -> bytes:
    # At a character boundary, so the header stays valid UTF-8.
    return text.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore").encode()


def _headers_size(headers: Headers) -> int:
    return sum(
        len(name.encode()) + len(value or b"") + RECORD_OVERHEAD_PER_HEADER
        for name, value in headers
    )


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
        "original_event_id": record.header(PREFIX + "original-event-id"),
        "attempts": record.header(PREFIX + "attempts"),
        "truncated_from_bytes": record.header(PREFIX + "truncated"),
        "failed_at": record.header(PREFIX + "failed-at"),
        "key": record.key.decode("utf-8", "replace") if record.key else None,
        "value_preview": (record.value or b"")[:200].decode("utf-8", "replace"),
    }


def replay_message(record: Record) -> tuple[str, bytes | None, bytes, Headers]:
    """The original message again, on its original topic, marked as a replay."""
    original = record.header(PREFIX + "original-topic")
    if record.header(PREFIX + "reason") == "unmatched-message" and not original:
        raise ValueError(
            f"dead letter at offset {record.offset} is a workflow message no instance waited "
            "for, held before held messages kept their original event (the letter keeps "
            "only its payload): start or fix the workflow that should receive it and send "
            "the event again from its source"
        )
    if not original:
        raise ValueError(f"dead letter at offset {record.offset} names no original topic")
    if record.header(PREFIX + "truncated"):
        where = (
            f"{original}[{record.header(PREFIX + 'original-partition')}]"
            f"@{record.header(PREFIX + 'original-offset')}"
        )
        raise ValueError(
            f"dead letter at offset {record.offset} holds only the first bytes of a message of "
            f"{record.header(PREFIX + 'truncated')} bytes; the whole one is at {where}"
        )
    headers: Headers = [h for h in record.headers if not h[0].startswith(PREFIX)]
    headers.append((PREFIX + "replayed-from", f"{record.partition}:{record.offset}".encode()))
    return original, record.key, record.value or b"", headers
