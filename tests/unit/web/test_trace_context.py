"""An HTTP request's W3C traceparent: events it causes continue the caller's trace, except
events about a contract, which stay in the contract's own trace and log the caller's as a
link. Invalid headers are ignored, and nothing leaks into the next request."""

from __future__ import annotations

import logging

import pytest
from flask import Blueprint, jsonify
from hypothesis import given
from hypothesis import strategies as st

from contractflow.auth import TokenService
from contractflow.events.envelope import CloudEvent, contract_traceparent, trace_id_of
from contractflow.web import ServiceWeb, create_service_app
from contractflow.web.trace_context import parse_traceparent
from tests.unit.negotiation.support import Negotiation

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
hex_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32).filter(
    lambda t: set(t) != {"0"}
)
span_ids = st.text(alphabet="0123456789abcdef", min_size=16, max_size=16).filter(
    lambda t: set(t) != {"0"}
)


@given(trace=hex_ids, span=span_ids, flags=st.sampled_from(["00", "01", "03"]))
def test_a_valid_traceparent_is_read_and_any_corruption_of_it_is_ignored(trace, span, flags):
    header = f"00-{trace}-{span}-{flags}"
    assert parse_traceparent(header) == header
    assert parse_traceparent(header.upper()) is None  # lower-case hex only
    assert parse_traceparent(header + "-extra") is None  # version 00 has four fields
    assert parse_traceparent(header[:-1]) is None
    assert parse_traceparent(f"ff-{trace}-{span}-{flags}") is None
    # A later version may add fields; its first four are read as version 00.
    assert parse_traceparent(f"01-{trace}-{span}-{flags}-what-comes") == header


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero parent id
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ],
)
def test_what_is_not_a_traceparent_is_ignored(header):
    assert parse_traceparent(header) is None


def _app_recording_an_event():
    """A service whose one route records an event about no contract and answers its trace."""
    blueprint = Blueprint("trace", __name__)

    @blueprint.post("/definitions")
    def publish():
        event = CloudEvent("workflow.definition.published", "test", "trivial.bpmn", {})
        return jsonify(traceparent=event.traceparent)

    tokens = TokenService("test-secret-that-is-long-enough-for-hs256", "contractflow")
    return create_service_app(ServiceWeb("test", tokens, [blueprint])).test_client()


def test_an_event_about_no_contract_continues_the_callers_trace_and_only_its_requests():
    client = _app_recording_an_event()
    continued = client.post("/definitions", headers={"traceparent": CALLER}).json["traceparent"]
    assert trace_id_of(continued) == trace_id_of(CALLER)
    assert continued.split("-")[2] != CALLER.split("-")[2], "the event is a span of its own"
    fresh = client.post("/definitions").json["traceparent"]
    assert trace_id_of(fresh) not in (None, trace_id_of(CALLER)), "the trace leaked"
    ignored = client.post("/definitions", headers={"traceparent": CALLER.upper()})
    assert trace_id_of(ignored.json["traceparent"]) != trace_id_of(CALLER)


def test_a_contract_event_stays_in_the_contracts_trace_and_links_the_callers(
    database_factory, caplog
):
    negotiation = Negotiation(database_factory("negotiation"))
    try:
        contract_id = negotiation.create()
        negotiation.prepare(contract_id)
        assert negotiation.submit(contract_id).status_code == 200
        for role in ("legal", "technical"):
            negotiation.complete_ok(contract_id, f"{role}_review", role, {"decision": "accept"})
        task = negotiation.task(contract_id, "finance_review")
        headers = {**negotiation.headers("finance"), "traceparent": CALLER}
        with caplog.at_level(logging.INFO, logger="contractflow.events.outbox"):
            answer = negotiation.client.post(
                f"/workflow/tasks/{task['id']}/complete",
                json={"data": {"decision": "accept"}},
                headers=headers,
            )
        assert answer.status_code == 200, answer.json
        [request] = negotiation.outbox("approval.requested.v1")
    finally:
        negotiation.close()
    assert request.trace_id == trace_id_of(contract_traceparent(contract_id))
    links = [r for r in caplog.records if getattr(r, "linked_traceparent", None) == CALLER]
    assert {r.event_trace_id for r in links} == {request.trace_id}  # type: ignore[attr-defined]
    assert any(request.id in r.getMessage() and contract_id in r.getMessage() for r in links)


def test_the_published_api_says_which_trace_wins():
    tokens = TokenService("test-secret-that-is-long-enough-for-hs256", "contractflow")
    client = create_service_app(ServiceWeb("test", tokens, [])).test_client()
    description = client.get("/openapi.json").json["info"]["description"]
    assert "traceparent" in description and "contract's own trace" in description
