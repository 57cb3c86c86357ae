"""The CloudEvents 1.0 envelope in Kafka structured mode, with W3C trace context.

Structured mode puts the whole event, attributes and data, in the message value as JSON and
marks it with `content-type: application/cloudevents+json`, so any consumer (an ERP in
another language, a CLI) can read one without knowing our schemas.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from contractflow import untrusted_json

SPECVERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
DATA_CONTENT_TYPE = "application/json"
REQUIRED_ATTRIBUTES = ("id", "source", "specversion", "type")
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


class MalformedEvent(ValueError):
    """Bytes that are not a CloudEvent we can read; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# The valid W3C traceparent an HTTP request came with (contractflow.web.trace_context),
# while it is handled: an event recorded meanwhile continues the caller's trace.
incoming_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "incoming_traceparent", default=None
)


def new_traceparent(trace_id: str | None = None) -> str:
    """A W3C traceparent; reusing `trace_id` continues the same contract's story. Without
    one, the trace of the HTTP request being handled continues, if it came with one."""
    trace_id = trace_id or trace_id_of(incoming_traceparent.get()) or secrets.token_hex(16)
    return f"00-{trace_id}-{secrets.token_hex(8)}-01"


def contract_traceparent(contract_id: str, traceparent: str | None = None) -> str:
    """The traceparent of an event about `contract_id`: its trace id is derived from the
    contract id, so every service, every human step, timer and restart puts one contract's
    events into one trace without having to pass it along; the span id (this event's own)
    is the given one's, or new."""
    trace_id = hashlib.sha256(b"contractflow-contract:" + contract_id.encode()).hexdigest()[:32]
    match = _TRACEPARENT.match(traceparent or "")
    span_id, flags = (match.group(2), match.group(3)) if match else (secrets.token_hex(8), "01")
    return f"00-{trace_id}-{span_id}-{flags}"


def trace_id_of(traceparent: str | None) -> str | None:
    match = _TRACEPARENT.match(traceparent or "")
    return match.group(1) if match else None


@dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    subject: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    traceparent: str = field(default_factory=new_traceparent)
    specversion: str = SPECVERSION
    datacontenttype: str = DATA_CONTENT_TYPE

    @property
    def trace_id(self) -> str | None:
        return trace_id_of(self.traceparent)

    def caused(self, type: str, source: str, data: dict[str, Any], subject: str | None = None):
        """A follow-up event in the same trace, so logs tie cause and effect together."""
        return CloudEvent(
            type=type,
            source=source,
            subject=subject or self.subject,
            data=data,
            traceparent=new_traceparent(self.trace_id),
        )

    def with_data(self, data: dict[str, Any]) -> CloudEvent:
        return replace(self, data=data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": self.datacontenttype,
            "traceparent": self.traceparent,
            "data": self.data,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | None, *, max_bytes: int | None = None) -> CloudEvent:
        """Parse structured-mode bytes, raising MalformedEvent that says what was wrong."""
        if raw is None:
            raise MalformedEvent("empty", "message has no value")
        if max_bytes is not None and len(raw) > max_bytes:
            raise MalformedEvent("oversized", f"{len(raw)} bytes exceeds the limit of {max_bytes}")
        try:
            # Bounded nesting, and every way of not being JSON (a 5,000-digit integer,
            # `[` × 50,000) is the same refusal, never an error escaping the consumer.
            doc = untrusted_json.loads(raw)
        except untrusted_json.UntrustedJsonError as exc:
            raise MalformedEvent("not-json", str(exc)) from None
        if not isinstance(doc, dict):
            raise MalformedEvent("not-cloudevent", "value is JSON but not an object")
        missing = [name for name in REQUIRED_ATTRIBUTES if not doc.get(name)]
        if missing:
            raise MalformedEvent("not-cloudevent", f"missing attributes: {', '.join(missing)}")
        if doc["specversion"] != SPECVERSION:
            raise MalformedEvent(
                "not-cloudevent", f"specversion {doc['specversion']!r} is not {SPECVERSION}"
            )
        for name in ("id", "source", "type"):
            if not isinstance(doc[name], str):
                raise MalformedEvent("not-cloudevent", f"attribute {name!r} must be a string")
        data = doc.get("data", {})
        if not isinstance(data, dict):
            raise MalformedEvent("not-cloudevent", "data must be a JSON object")
        subject = doc.get("subject")
        if not isinstance(subject, str) or not subject:
            raise MalformedEvent("not-cloudevent", "subject (the contract id) is required")
        try:
            time = dt.datetime.fromisoformat(doc["time"]) if doc.get("time") else None
        except (TypeError, ValueError):
            raise MalformedEvent(
                "not-cloudevent", f"time {doc.get('time')!r} is not RFC 3339"
            ) from None
        if time is not None and time.tzinfo is None:
            raise MalformedEvent("not-cloudevent", "time must carry a timezone")
        traceparent = doc.get("traceparent")
        if not (isinstance(traceparent, str) and _TRACEPARENT.match(traceparent)):
            traceparent = new_traceparent()
        return cls(
            id=doc["id"],
            source=doc["source"],
            type=doc["type"],
            subject=subject,
            time=time or dt.datetime.now(dt.UTC),
            datacontenttype=doc.get("datacontenttype") or DATA_CONTENT_TYPE,
            traceparent=traceparent,
            data=data,
        )
