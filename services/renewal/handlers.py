"""Renewal's event handlers: event type -> plain function(session, event, data), each run
inside the consumer's transaction with the inbox row. They call the capability modules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from contractflow.events.batching import EventHandler
from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import Outbox
from contractflow.workflow import WorkflowRuntime
from contractflow.workflow import messages as workflow_messages
from services.renewal import (
    contract_view,
    payments,
    purchase_orders,
    renegotiation,
    supervision,
    vendor_licences,
)
from services.renewal.mails import RenewalMails
from services.renewal.models import WatchedContract
from services.renewal.settings import RenewalSettings

Clock = Callable[[], dt.datetime]
APPROVAL_DECIDED = "approval_decided"
# What may wait for a contract's contract.signed: its amendment or termination, and the
# ERP's purchase orders and payments.
HELD_AT_SIGNING = (
    *contract_view.HELD_SCHEMAS,
    purchase_orders.PO_CREATED,
    payments.PAYMENT_RECORDED,
)


def watch_signed_contract(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    # One look for everything held for the contract, instead of one per kind.
    held = contract_view.held_for(session, data["contract_id"], HELD_AT_SIGNING)
    contract = contract_view.record_signed(
        session, event.id, data, context.clock(), context.settings, context.timezone, held
    )
    erp_facts_now_known(session, contract.contract_id, context, held)
    renegotiation.close_renewed(session, event.id, contract, data, context.clock(), context.outbox)


def follow_amendment(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    contract_id, now = data["contract_id"], context.clock()
    known = session.get(WatchedContract, contract_id)
    total_before = (known.total_amount, known.currency) if known is not None else None
    outcome = contract_view.apply_amendment(
        session, event.id, data, event.data, now, context.settings, context.timezone
    )
    payments.release_held(session, contract_id, now)
    if outcome != "applied" or total_before is None:
        return  # held: applied with the contract.signed, before any PO is linked
    contract = contract_view.get_contract(session, contract_id)
    because = f"amendment {data['amendment_number']}"
    purchase_orders.follow_total(
        session, context.runtime, contract, total_before, because, now, context.mails
    )
    # Its end date may now lie past the provider's licence.
    vendor_licences.check_contract(session, context.runtime, contract, now, context.mails)


def follow_termination(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    outcome = contract_view.apply_termination(
        session, event.id, data, event.data, context.clock(), context.settings
    )
    if outcome != "applied":
        return  # held: applied with the contract.signed, before any owner task is opened
    contract = contract_view.get_contract(session, data["contract_id"])
    # Its ERP owner tasks are moot now; the overdue payments it still owes stay open.
    because = f"contract terminated on {data['effective_date'].isoformat()}"
    purchase_orders.withdraw_at_termination(session, context.runtime, contract, because)
    vendor_licences.withdraw_at_termination(session, context.runtime, contract, because)


def record_kpi_report(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    supervision.record_kpis(session, data, context.clock())


def record_maintenance(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    supervision.record_maintenance(session, data, context.clock())


def record_payment(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    payments.record_payment(session, event.id, data, event.data, context.clock())


def link_purchase_order(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    purchase_orders.link_purchase_order(
        session, context.runtime, event.id, data, event.data, context.clock(), context.mails
    )


def remember_vendor(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    vendor_licences.remember_vendor(session, context.runtime, data, context.clock(), context.mails)


def erp_facts_now_known(
    session: Session, contract_id: str, context: HandlerContext, held: Collection[str]
) -> None:
    """What the ERP said before the contract was signed here (`held`: the kinds of message
    held for it), applied now; and its provider's licence checked against the term."""
    now = context.clock()
    if purchase_orders.PO_CREATED in held:
        purchase_orders.release_held(session, context.runtime, contract_id, now, context.mails)
    if payments.PAYMENT_RECORDED in held:
        payments.release_held(session, contract_id, now)
    contract = contract_view.get_contract(session, contract_id)
    vendor_licences.check_contract(session, context.runtime, contract, now, context.mails)


def hand_decision_to_workflow(
    session: Session, event: CloudEvent, data: dict[str, Any], *, context: HandlerContext
) -> None:
    """The approval service's answer to a renewal waiting for it; other services' decisions
    pass by (not held, so they never dead-letter)."""
    key = data["request_id"]
    if workflow_messages.subscriber(session, APPROVAL_DECIDED, key) is None:
        return
    context.runtime.correlate(
        session, APPROVAL_DECIDED, key, event.data, event.id, traceparent=event.traceparent
    )


class HandlerContext:
    """What the handlers need besides the event: clock, settings, default zone, runtime,
    the outbox and the owner's mails."""

    def __init__(
        self,
        clock: Clock,
        settings: RenewalSettings,
        timezone: str,
        runtime: WorkflowRuntime,
        outbox: Outbox,
        mails: RenewalMails,
    ) -> None:
        self.clock, self.settings, self.timezone = clock, settings, timezone
        self.runtime, self.outbox, self.mails = runtime, outbox, mails


HANDLERS = {
    "contract.signed.v1": watch_signed_contract,
    "contract.amended.v1": follow_amendment,
    "contract.terminated.v1": follow_termination,
    "service.kpi.reported.v1": record_kpi_report,
    "maintenance.performed.v1": record_maintenance,
    "approval.decided.v1": hand_decision_to_workflow,
    "erp.payment.recorded.v1": record_payment,
    "erp.purchase_order.created.v1": link_purchase_order,
    "erp.vendor.updated.v1": remember_vendor,
}


def event_handlers(context: HandlerContext) -> dict[str, EventHandler]:
    return {
        event_type: partial(handler, context=context) for event_type, handler in HANDLERS.items()
    }
