"""Negotiation's event handlers: each runs inside the consumer's transaction with the inbox row."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.events.batching import EventHandler
from contractflow.events.envelope import CloudEvent
from contractflow.workflow import WorkflowRuntime
from services.negotiation import after_signing, people
from services.negotiation.models import AWAITING_APPROVAL, ContractDraft

log = logging.getLogger(__name__)
APPROVAL_DECIDED = "approval_decided"


def approval_decided_handler(runtime: WorkflowRuntime) -> EventHandler:
    def hand_decision_to_workflow(
        session: Session, event: CloudEvent, data: dict[str, Any]
    ) -> None:
        """Deliver the approval service's answer to the draft waiting for this request.

        Decisions on requests that are not a waiting draft's current one (a change request,
        a superseded round, a cancelled draft) are not ours to hold: they are skipped, so
        they do not sit in the held-message store until their TTL sends them to dead letters.
        """
        request_id = data["request_id"]
        draft = session.scalar(
            select(ContractDraft).where(ContractDraft.approval_request_id == request_id)
        )
        if draft is None or draft.status != AWAITING_APPROVAL:
            log.info(
                "approval.decided %s for request %s (contract %s) matches no draft awaiting "
                "approval; skipped",
                event.id,
                request_id,
                data["contract_id"],
            )
            return
        outcome = runtime.correlate(
            session,
            APPROVAL_DECIDED,
            request_id,
            event.data,
            event.id,
            traceparent=event.traceparent,
        )
        if outcome == "held":
            # The draft says it waits but its workflow does not yet: the runtime keeps the
            # answer and hands it over when the catch event subscribes (or dead-letters it).
            log.warning("approval.decided %s held for contract %s", event.id, draft.contract_id)

    return hand_decision_to_workflow


def event_handlers(runtime: WorkflowRuntime) -> dict[str, EventHandler]:
    def follow_amendment(session: Session, event: CloudEvent, data: dict[str, Any]) -> None:
        after_signing.record_amendment(session, event.id, data, runtime.clock())

    def follow_termination(session: Session, event: CloudEvent, data: dict[str, Any]) -> None:
        after_signing.record_termination(session, event.id, data, runtime.clock())

    def remember_employee(session: Session, event: CloudEvent, data: dict[str, Any]) -> None:
        people.remember_employee(session, data, runtime.clock())

    return {
        "approval.decided.v1": approval_decided_handler(runtime),
        "erp.employee.updated.v1": remember_employee,
        "contract.amended.v1": follow_amendment,
        "contract.terminated.v1": follow_termination,
    }
