"""The CloudEvents envelope: what we write is structured-mode CloudEvents 1.0 and what we
cannot read is refused with a reason code the dead-letter topic can carry."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from contractflow.events.envelope import CloudEvent, MalformedEvent, new_traceparent, trace_id_of


def make(**changes) -> CloudEvent:
    attributes = {
        "type": "contract.cancelled.v1",
        "source": "/negotiation",
        "subject": "C-1",
        "data": {"reason": "预算取消"},
    }
    return CloudEvent(**(attributes | changes))


def test_round_trip_keeps_every_attribute_and_unicode():
    event = make()
    raw = event.to_json()
    assert "预算取消".encode() in raw, "Chinese text travels as UTF-8, not escapes"
    assert CloudEvent.from_json(raw) == event


def test_structured_mode_has_the_required_attributes():
    doc = json.loads(make().to_json())
    assert doc["specversion"] == "1.0"
    assert {"id", "source", "type", "subject", "time", "datacontenttype", "traceparent"} <= set(doc)
    assert doc["time"].endswith("Z")


def test_follow_up_event_continues_the_trace():
    cause = make()
    effect = cause.caused("contract.signed.v1", "/negotiation", {"x": 1})
    assert effect.trace_id == cause.trace_id
    assert effect.traceparent != cause.traceparent, "a new span in the same trace"
    assert effect.subject == cause.subject and effect.id != cause.id


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty"),
        (b"\xff\xfe", "not-json"),
        (b"{not json", "not-json"),
        (b"[1, 2]", "not-cloudevent"),
        (json.dumps({"id": "1", "source": "/x", "specversion": "1.0"}).encode(), "not-cloudevent"),
        (
            json.dumps(
                {"id": "1", "source": "/x", "specversion": "0.3", "type": "t", "subject": "C"}
            ).encode(),
            "not-cloudevent",
        ),
        (
            json.dumps({"id": "1", "source": "/x", "specversion": "1.0", "type": "t"}).encode(),
            "not-cloudevent",
        ),
        (
            json.dumps(
                {
                    "id": "1",
                    "source": "/x",
                    "specversion": "1.0",
                    "type": "t",
                    "subject": "C",
                    "data": [1],
                }
            ).encode(),
            "not-cloudevent",
        ),
        (
            json.dumps(
                {
                    "id": "1",
                    "source": "/x",
                    "specversion": "1.0",
                    "type": "t",
                    "subject": "C",
                    "time": "yesterday",
                }
            ).encode(),
            "not-cloudevent",
        ),
        (
            json.dumps(
                {
                    "id": "1",
                    "source": "/x",
                    "specversion": "1.0",
                    "type": "t",
                    "subject": "C",
                    "time": "2026-01-01T00:00:00",
                }
            ).encode(),
            "not-cloudevent",
        ),
        (
            json.dumps(
                {"id": 7, "source": "/x", "specversion": "1.0", "type": "t", "subject": "C"}
            ).encode(),
            "not-cloudevent",
        ),
    ],
)
def test_unreadable_messages_are_refused_with_a_reason(raw, reason):
    with pytest.raises(MalformedEvent) as caught:
        CloudEvent.from_json(raw)
    assert caught.value.reason == reason


def test_oversized_message_is_refused_before_parsing():
    with pytest.raises(MalformedEvent) as caught:
        CloudEvent.from_json(make(data={"blob": "x" * 2000}).to_json(), max_bytes=1000)
    assert caught.value.reason == "oversized"


def test_missing_or_broken_traceparent_starts_a_new_trace():
    doc = json.loads(make().to_json())
    doc["traceparent"] = "garbage"
    event = CloudEvent.from_json(json.dumps(doc).encode())
    assert trace_id_of(event.traceparent) is not None


def test_traceparent_format():
    parent = new_traceparent("a" * 32)
    assert parent.startswith("00-" + "a" * 32 + "-") and parent.endswith("-01")
    assert trace_id_of(parent) == "a" * 32
    assert (
        make(time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).to_dict()["time"]
        == "2026-01-01T00:00:00Z"
    )
