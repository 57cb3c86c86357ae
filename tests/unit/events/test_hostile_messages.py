"""Hostile bytes meet the envelope parser and the dead-letter publisher: every one is refused
with a reason, and every dead letter fits where an event fits."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from contractflow import untrusted_json
from contractflow.events.deadletter import DeadLetter, DeadLetterPublisher, replay_message
from contractflow.events.envelope import CloudEvent, MalformedEvent
from contractflow.events.memory_bus import InMemoryBroker, InMemoryProducer
from contractflow.events.transport import Record

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def envelope(data_json: str) -> bytes:
    return (
        '{"specversion":"1.0","id":"E-1","source":"/x","type":"t.v1","subject":"C-1",'
        f'"data":{data_json}}}'
    ).encode()


@pytest.mark.parametrize(
    "raw, says",
    [
        (b"[" * 50_000, "nested deeper than"),
        (b"{" * 50_000, "nested deeper than"),
        (b'{"a":' * 1_000 + b"1" + b"}" * 1_000, "nested deeper than"),
        (envelope('{"a":' + "[" * 999 + "]" * 999 + "}"), "nested deeper than"),
        (envelope('{"n":' + "9" * 5_000 + "}"), "4300 digits"),
        (envelope('{"n":-' + "1" * 10_000 + "}"), "4300 digits"),
        (b'{"id":' + b"1" * 5_000 + b"}", "4300 digits"),
        (b"\xff\xfe\x00{", "not UTF-8"),
        (b'{"a":"\xed\xa0\x80"}', "not UTF-8"),  # an encoded lone surrogate
        (b"", "Expecting value"),
        (b'{"a":"unterminated', "Unterminated string"),
        (b"garbage", "Expecting value"),
    ],
)
def test_hostile_json_is_refused_as_not_json_with_what_was_wrong(raw, says):
    with pytest.raises(MalformedEvent) as refused:
        CloudEvent.from_json(raw)
    assert refused.value.reason == "not-json"
    assert says in refused.value.detail


def test_brackets_inside_strings_do_not_count_as_nesting():
    event = CloudEvent(type="t.v1", source="/x", subject="C-1", data={"note": "[" * 10_000})
    assert CloudEvent.from_json(event.to_json()).data == {"note": "[" * 10_000}


def test_the_deepest_document_allowed_is_read():
    depth = untrusted_json.MAX_JSON_DEPTH
    assert untrusted_json.loads("[" * depth + "]" * depth) is not None
    with pytest.raises(untrusted_json.UntrustedJsonError):
        untrusted_json.loads("[" * (depth + 1) + "]" * (depth + 1))


def record(value: bytes, key: bytes | None = b"C-1", headers=None) -> Record:
    return Record("in.topic", 2, 4711, key, value, headers or [])


def published_letter(record_: Record, max_bytes: int = 1_000_000, error: str = "boom") -> Record:
    broker = InMemoryBroker(partitions=1)
    broker.create_topics(["dlq"])
    publisher = DeadLetterPublisher(InMemoryProducer(broker), "dlq", "renewal", max_bytes)
    publisher.publish(record_, DeadLetter("oversized", error, 0), NOW)
    [letter] = broker.records("dlq")
    return letter


def size(letter: Record) -> int:
    headers = sum(len(k.encode()) + len(v) + 10 for k, v in letter.headers)
    return len(letter.key or b"") + len(letter.value or b"") + headers + 512


def test_a_letter_that_fits_keeps_the_original_whole_and_replays():
    letter = published_letter(record(b'{"id":"E-1"}', headers=[("content-type", b"x")]))
    assert letter.value == b'{"id":"E-1"}'
    assert letter.header("dlq.truncated") is None
    topic, key, value, headers = replay_message(letter)
    assert (topic, key, value) == ("in.topic", b"C-1", b'{"id":"E-1"}')
    assert ("content-type", b"x") in headers


@pytest.mark.parametrize("original_size", [999_000, 1_000_000, 1_040_000, 5_000_000])
def test_a_letter_of_a_message_too_large_is_cut_to_fit_and_says_where_the_whole_one_is(
    original_size,
):
    value = b"x" * original_size
    letter = published_letter(record(value), error="界" * 5_000)
    assert size(letter) <= 1_000_000
    assert letter.header("dlq.truncated") == str(original_size)
    assert letter.header("dlq.original-sha256") == hashlib.sha256(value).hexdigest()
    assert value.startswith(letter.value) and len(letter.value) > 900_000
    assert letter.header("dlq.original-topic") == "in.topic"
    assert letter.header("dlq.original-partition") == "2"
    assert letter.header("dlq.original-offset") == "4711"
    assert letter.header("dlq.reason") == "oversized"
    assert len(letter.header("dlq.error").encode()) <= 4000
    with pytest.raises(ValueError, match=r"in\.topic\[2\]@4711"):
        replay_message(letter)


def test_huge_original_headers_and_key_give_way_too():
    headers = [(f"h{n}", b"v" * 10_000) for n in range(50)]
    letter = published_letter(record(b"{}", key=b"k" * 100_000, headers=headers))
    assert size(letter) <= 1_000_000
    assert letter.header("dlq.original-headers-dropped") == "50"
    assert letter.header("dlq.original-key-sha256") == hashlib.sha256(b"k" * 100_000).hexdigest()
    assert letter.value == b"{}"
    assert json.loads(letter.value) == {}
