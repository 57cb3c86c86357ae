"""What the ERP does with contractflow's events, and what it answers: plain functions called
by the event handlers and by the operator's commands, each inside the caller's transaction
(so a ledger change and the events it sends commit together, through the outbox).

An adapter for a real ERP keeps this module's shape and replaces the rows with calls into
the ERP: map each event onto the ERP's records, keyed so that applying it twice changes
nothing (the kernel's inbox already drops a redelivered event id; the keys here also make a
replay from offset 0 safe).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import Outbox
from contractflow.events.rejection import EventRejected
from services.erp_connector.models import (
    LedgerContract,
    LedgerMilestone,
    LedgerPayment,
    LedgerPurchaseOrder,
    LedgerVendor,
)

SOURCE = "/erp-connector"


class UnknownContract(LookupError):
    """An event about a contract the ledger never booked (its contract.signed has not come):
    the consumer retries, then dead-letters it with this reason — never a guess."""

    def __init__(self, contract_id: str, event_type: str) -> None:
        super().__init__(
            f"{event_type} for contract {contract_id}, which the ledger has not booked "
            "(no contract.signed seen)"
        )


class LedgerRefused(ValueError):
    """An operator's command the ledger cannot take; the message says why."""


def book_signed(session: Session, event_id: str, data: dict[str, Any], now: dt.datetime) -> None:
    provider = data["provider"]
    vendor = session.get(LedgerVendor, provider["id"]) or LedgerVendor(vendor_id=provider["id"])
    vendor.name = provider["name"]
    session.add(vendor)
    contract = session.get(LedgerContract, data["contract_id"]) or LedgerContract(
        contract_id=data["contract_id"]
    )
    contract.title = data["title"]
    contract.vendor_id = provider["id"]
    contract.start_date, contract.end_date = data["start_date"], data["end_date"]
    contract.total_amount = data["total"]["amount"]
    contract.currency = data["total"]["currency"]
    contract.status = "active"
    contract.last_event_id, contract.updated_at = event_id, now
    session.add(contract)
    session.flush()
    _replace_plan(
        session,
        contract.contract_id,
        [
            (p["due_date"], p["amount"]["amount"], p["description"])
            for p in data["payment_schedule"]
        ],
    )


def book_amended(session: Session, event_id: str, data: dict[str, Any], now: dt.datetime) -> None:
    contract = _booked(session, data["contract_id"], "contract.amended")
    contract.total_amount = data["total_after"]["amount"]
    contract.last_event_id, contract.updated_at = event_id, now
    # The amended schedule replaces what is not yet paid; paid milestones stay as booked.
    _replace_plan(
        session,
        contract.contract_id,
        [
            (p["due_date"], p["amount"]["amount"], p["description"] or p["kind"])
            for p in data["fee_schedule"]
        ],
    )


def book_terminated(
    session: Session, event_id: str, data: dict[str, Any], now: dt.datetime
) -> None:
    contract = _booked(session, data["contract_id"], "contract.terminated")
    contract.status = "terminated"
    contract.end_date = data["effective_date"]
    contract.last_event_id, contract.updated_at = event_id, now
    session.execute(
        delete(LedgerMilestone).where(
            LedgerMilestone.contract_id == contract.contract_id,
            LedgerMilestone.due_date > data["effective_date"],
            LedgerMilestone.paid_amount == 0,
        )
    )


def book_new_end(session: Session, event_id: str, data: dict[str, Any], now: dt.datetime) -> None:
    """contract.renewed and contract.extended: the contract runs to a new end date."""
    contract = _booked(session, data["contract_id"], "contract.renewed/extended")
    contract.end_date = data.get("end_date") or data["until"]
    contract.last_event_id, contract.updated_at = event_id, now


def create_purchase_order(
    session: Session,
    outbox: Outbox,
    contract_id: str,
    po_number: str,
    amount: Decimal | None,
    now: dt.datetime,
) -> LedgerPurchaseOrder:
    contract = _booked(session, contract_id, "purchase order")
    if session.get(LedgerPurchaseOrder, po_number) is not None:
        raise LedgerRefused(f"purchase order {po_number} exists already")
    order = LedgerPurchaseOrder(
        po_number=po_number,
        contract_id=contract_id,
        amount=contract.total_amount if amount is None else amount,
        currency=contract.currency,
        created_at=now,
    )
    session.add(order)
    outbox.record(
        session,
        CloudEvent(
            type="erp.purchase_order.created.v1",
            source=SOURCE,
            subject=contract_id,
            data={
                "po_number": po_number,
                "contract_id": contract_id,
                "amount": _money(order.amount, order.currency),
                "created_at": now.isoformat(),
            },
        ),
    )
    return order


def record_payment(
    session: Session,
    outbox: Outbox,
    contract_id: str,
    due_date: dt.date,
    amount: Decimal | None,
    now: dt.datetime,
    payment_id: str | None = None,
) -> LedgerPayment:
    """Pay (part of) the milestone due on `due_date`; `amount` defaults to what is open."""
    contract = _booked(session, contract_id, "payment")
    milestone = session.get(LedgerMilestone, (contract_id, due_date))
    if milestone is None:
        raise LedgerRefused(f"contract {contract_id} has no payment due on {due_date}")
    open_amount = Decimal(milestone.amount) - Decimal(milestone.paid_amount)
    amount = open_amount if amount is None else amount
    if amount <= 0 or amount > open_amount:
        raise LedgerRefused(f"{amount} is not between 0 and the {open_amount} still open")
    milestone.paid_amount = Decimal(milestone.paid_amount) + amount
    payment = LedgerPayment(
        payment_id=payment_id or f"PAY-{contract_id}-{due_date.isoformat()}-{now:%H%M%S%f}",
        contract_id=contract_id,
        due_date=due_date,
        amount=amount,
        currency=contract.currency,
        paid_at=now,
    )
    session.add(payment)
    po = session.scalar(
        select(LedgerPurchaseOrder.po_number).where(LedgerPurchaseOrder.contract_id == contract_id)
    )
    outbox.record(
        session,
        CloudEvent(
            type="erp.payment.recorded.v1",
            source=SOURCE,
            subject=contract_id,
            data={
                "payment_id": payment.payment_id,
                "contract_id": contract_id,
                "due_date": due_date.isoformat(),
                "amount": _money(amount, contract.currency),
                "paid_at": now.isoformat(),
                "po_number": po,
            },
        ),
    )
    return payment


def note_due(session: Session, event_id: str, data: dict[str, Any], now: dt.datetime) -> None:
    """`payment.due`: the ledger must hold the milestone contractflow says is due."""
    contract = _booked(session, data["contract_id"], "payment.due")
    if session.get(LedgerMilestone, (contract.contract_id, data["due_date"])) is None:
        # Same topic and key as the contract's other events, so not early: the plans differ.
        raise EventRejected(
            "milestone-not-in-ledger",
            f"event {event_id}: payment.due for {contract.contract_id} on {data['due_date']}, "
            "a milestone the ledger's plan does not hold",
        )


def pay_due(
    session: Session, outbox: Outbox, event_id: str, data: dict[str, Any], now: dt.datetime
) -> LedgerPayment | None:
    """Pay what is open of the milestone `payment.due` names (nothing when it is paid).
    The payment id comes from the event's, so a replayed event cannot pay twice."""
    milestone = session.get(LedgerMilestone, (data["contract_id"], data["due_date"]))
    if milestone is None or Decimal(milestone.paid_amount) >= Decimal(milestone.amount):
        return None
    return record_payment(
        session, outbox, data["contract_id"], data["due_date"], None, now, f"PAY-{event_id}"
    )


def _booked(session: Session, contract_id: str, what: str) -> LedgerContract:
    contract = session.get(LedgerContract, contract_id)
    if contract is None:
        raise UnknownContract(contract_id, what)
    return contract


def _replace_plan(session: Session, contract_id: str, plan: list[tuple[dt.date, Any, str]]) -> None:
    paid = {
        m.due_date: m
        for m in session.scalars(
            select(LedgerMilestone).where(LedgerMilestone.contract_id == contract_id)
        )
    }
    for milestone in paid.values():  # unpaid milestones are replaced by the new plan
        if milestone.paid_amount == 0:
            session.delete(milestone)
    session.flush()
    # A milestone is a contract and a date (what erp.payment.recorded names): two payments
    # of the schedule on one date (a term's fee and an upgrade) are one milestone of both.
    by_date: dict[dt.date, tuple[Decimal, list[str]]] = {}
    for due_date, amount, description in plan:
        total, descriptions = by_date.get(due_date, (Decimal("0"), []))
        by_date[due_date] = (total + Decimal(amount), [*descriptions, description])
    for due_date, (amount, descriptions) in by_date.items():
        description = "; ".join(d for d in descriptions if d)[:500]
        kept = paid.get(due_date)
        if kept is not None and kept.paid_amount > 0:
            kept.amount, kept.description = Decimal(amount), description
            continue
        session.add(
            LedgerMilestone(
                contract_id=contract_id,
                due_date=due_date,
                amount=Decimal(amount),
                description=description,
                paid_amount=Decimal("0"),
            )
        )


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": f"{Decimal(amount):.2f}", "currency": currency}
