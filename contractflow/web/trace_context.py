"""An HTTP request's W3C `traceparent`: the events it causes continue the caller's trace.

A request carrying a valid traceparent (https://www.w3.org/TR/trace-context/) is handled
inside it: every event recorded meanwhile carries the caller's trace id, and every log line
its `incoming_traceparent`. One rule comes first: an event about a contract is in that
contract's own trace (derived from the contract id, `envelope.contract_traceparent`), so one
contract's story is one trace across services, human steps and timers whoever calls; for
such an event the caller's trace is logged as a link (`linked_traceparent`) instead. An
invalid or absent header starts nothing and is not an error (as the recommendation says).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from contractflow.events.envelope import incoming_traceparent
from contractflow.logging import log_context

# version-traceid-parentid-flags; a later version may append fields after a dash.
_HEADER = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.ASCII)
DESCRIPTION = (
    "Tracing: a request may carry a W3C `traceparent`. Events it causes continue that trace, "
    "except events about a contract: those are always in the contract's own trace (its id is "
    "derived from the contract id), so that one contract's story is one trace across the "
    "services, human steps and timers; the incoming trace is then logged as a link."
)


def parse_traceparent(header: str | None) -> str | None:
    """The version-00 traceparent a valid header states, else None."""
    match = _HEADER.fullmatch(header.strip(" \t")) if header else None
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return f"00-{trace_id}-{parent_id}-{flags}"


class TraceContextMiddleware:
    """WSGI middleware: the request is handled inside its caller's trace, if valid."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        traceparent = parse_traceparent(environ.get("HTTP_TRACEPARENT"))
        if traceparent is None:
            return self.app(environ, start_response)
        token = incoming_traceparent.set(traceparent)
        try:
            with log_context(incoming_traceparent=traceparent):
                # The view (and the events it records) runs inside this call; a streamed
                # body is not consumed here, and records no events.
                return self.app(environ, start_response)
        finally:
            incoming_traceparent.reset(token)
