"""The running contract's payment schedule: `payment.due` for each milestone on its date,
payments from the ERP adding up against it, and a milestone past its date without full
payment made overdue (a task for the owner, `payment.overdue`).

The schedule comes from `contract.signed` and is replaced by each `contract.amended` (its
`fee_schedule` replaces the unpaid milestones; paid ones stay, as the ERP keeps them). The
dates are renewal's deadline rows (`deadlines.plan` asks `deadline_keys` for them), so each
fires once with several workers, and an amendment moves what has not fired yet.

A termination (`contract.terminated`) cancels the unpaid milestones due after its effective
date; those due on or before it are owed still, so they are announced and chased as ever,
whatever becomes of the contract afterwards (handed over, expired).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import Outbox
from contractflow.events.rejection import EventRejected
from contractflow.events.schemas.erp import PaymentRecordedV1
from contractflow.workflow import WorkflowRuntime, messages
from contractflow.workflow.models import HeldMessageRow
from services.renewal.erp_records import (
    CANCELLED,
    DROPPED,
    OPEN,
    PAID,
    PaymentMilestone,
    PaymentReceived,
    PurchaseOrderLink,
)
from services.renewal.mails import RenewalMails
from services.renewal.models import Deadline, WatchedContract
from services.renewal.owner_tasks import open_task

log = logging.getLogger(__name__)

PAYMENT_DUE, PAYMENT_OVERDUE = "payment_due", "payment_overdue"
PAYMENT_KINDS = (PAYMENT_DUE, PAYMENT_OVERDUE)
OVERDUE_PROCESS = "payment_overdue"
PAYMENT_RECORDED = "erp.payment.recorded.v1"
# A payment for a contract or milestone not (yet) known here waits this long for the
# contract.signed or contract.amended that explains it, then goes to the dead letters.
HOLD_FOR = dt.timedelta(days=7)
ON_THE_DAY, DAY_AFTER = 0, -1  # deadline offsets: due on the date, overdue the day after


def take_schedule(
    session: Session, contract: WatchedContract, schedule: list[dict], *, new_contract: bool = False
) -> list[dt.date]:
    """The schedule of `contract.signed` (`payment_schedule`) or of `contract.amended`
    (`fee_schedule`), loaded: it replaces the unpaid milestones. Two payments on one date
    are one milestone (the ERP pays by contract and date). Answers the due dates of the
    open milestones, which `deadlines.plan` then needs not read back.

    `new_contract`: the contract was created in this transaction, so it has no milestones
    to read yet."""
    planned: dict[dt.date, tuple[Decimal, str, list[str]]] = {}
    for item in schedule:
        amount, currency, descriptions = planned.get(
            item["due_date"], (Decimal("0"), item["amount"]["currency"], [])
        )
        description = item.get("description") or item.get("kind") or ""
        planned[item["due_date"]] = (
            amount + Decimal(item["amount"]["amount"]),
            currency,
            [*descriptions, description],
        )
    known = [] if new_contract else milestones(session, contract.contract_id)
    existing = {m.due_date: m for m in known}
    new_rows, new_open = [], []
    for due_date, (amount, currency, descriptions) in planned.items():
        description = "; ".join(d for d in descriptions if d)[:500]
        milestone = existing.pop(due_date, None)
        if milestone is None:
            status = PAID if amount <= 0 else _unpaid(contract, due_date)
            if status == OPEN:
                new_open.append(due_date)
            new_rows.append(
                {
                    "contract_id": contract.contract_id,
                    "due_date": due_date,
                    "amount": amount,
                    "currency": currency,
                    "description": description,
                    "paid_amount": Decimal("0"),
                    "status": status,
                }
            )
            continue
        milestone.amount, milestone.currency = amount, currency
        milestone.description = description
        paid = milestone.paid_amount >= amount
        milestone.status = PAID if paid else _unpaid(contract, due_date)
    for milestone in existing.values():
        if milestone.paid_amount == 0:
            milestone.status = DROPPED
    session.flush()
    if new_rows:
        # One executemany without RETURNING, as deadlines.plan inserts its rows: a schedule
        # is dozens of milestones, which as ORM objects cost more CPU than their statement.
        session.execute(insert(PaymentMilestone), new_rows)
    still_open = [m.due_date for m in known if m.status == OPEN]
    return sorted(still_open + new_open)


def end_at_termination(session: Session, contract: WatchedContract) -> list[dt.date]:
    """The contract was terminated (`terminated_on` set): its unpaid milestones due after
    the effective date are cancelled. Answers the due dates of those still owed."""
    owed = []
    for milestone in milestones(session, contract.contract_id):
        if milestone.status == OPEN:
            milestone.status = _unpaid(contract, milestone.due_date)
            if milestone.status == OPEN:
                owed.append(milestone.due_date)
    session.flush()
    return owed


def _unpaid(contract: WatchedContract, due_date: dt.date) -> str:
    """An unpaid milestone is owed, unless a termination took effect before its date."""
    ended = contract.terminated_on
    return CANCELLED if ended is not None and due_date > ended else OPEN


def milestones(session: Session, contract_id: str) -> list[PaymentMilestone]:
    return list(
        session.scalars(
            select(PaymentMilestone)
            .where(PaymentMilestone.contract_id == contract_id)
            .order_by(PaymentMilestone.due_date)
        )
    )


def deadline_keys(
    session: Session,
    contract: WatchedContract,
    grace_days: int,
    open_due_dates: list[dt.date] | None = None,
) -> list[tuple[str, str, int, dt.date]]:
    """The deadline rows the schedule calls for (kind, item = the due date, offset, date):
    due on the date unless paid; overdue the day after the grace while unpaid. A milestone
    whose date passed before the contract was signed is due at once, and its grace runs
    from the signing, so the ERP has the same time to pay it.

    `open_due_dates`: the open milestones' dates as `take_schedule` answered them in this
    transaction; read from the table when not given."""
    grace = dt.timedelta(days=grace_days)
    signed_on = contract.watched_since.astimezone(ZoneInfo(contract.timezone)).date()
    if open_due_dates is None:
        open_due_dates = [
            m.due_date for m in milestones(session, contract.contract_id) if m.status == OPEN
        ]
    keys = []
    for due_date in open_due_dates:
        item = due_date.isoformat()
        keys.append((PAYMENT_DUE, item, ON_THE_DAY, due_date))
        keys.append((PAYMENT_OVERDUE, item, DAY_AFTER, max(due_date, signed_on) + grace))
    return keys


def fire(
    session: Session,
    deadline: Deadline,
    contract: WatchedContract,
    now: dt.datetime,
    outbox: Outbox,
    runtime: WorkflowRuntime,
    mails: RenewalMails,
) -> None:
    """A payment deadline the watch claimed: announce the milestone, or make it overdue
    (the owner's task, mailed)."""
    milestone = session.scalar(
        select(PaymentMilestone).where(
            PaymentMilestone.contract_id == contract.contract_id,
            PaymentMilestone.due_date == dt.date.fromisoformat(deadline.item),
        )
    )
    if milestone is None or milestone.status != OPEN:
        return  # paid or dropped since it was planned: nothing to say
    if deadline.kind == PAYMENT_DUE:
        outbox.record(session, _event("payment.due.v1", contract, milestone, session))
        return
    milestone.overdue_task_id = deadline.task_id = open_task(
        session,
        runtime,
        OVERDUE_PROCESS,
        contract,
        {
            "due_date": milestone.due_date.isoformat(),
            "amount": f"{milestone.amount:.2f}",
            "paid": f"{milestone.paid_amount:.2f}",
            "outstanding": f"{milestone.outstanding:.2f}",
            "currency": milestone.currency,
            "description": milestone.description,
        },
        now,
        mails=mails,
    )
    event = _event("payment.overdue.v1", contract, milestone, session)
    outbox.record(session, event)


def _event(
    type_: str, contract: WatchedContract, milestone: PaymentMilestone, session: Session
) -> CloudEvent:
    def money(amount: Decimal) -> dict[str, str]:
        return {"amount": f"{Decimal(amount):.2f}", "currency": milestone.currency}

    data: dict[str, Any] = {
        "contract_id": contract.contract_id,
        "due_date": milestone.due_date.isoformat(),
        "amount": money(milestone.amount),
        "outstanding": money(milestone.outstanding),
        "description": milestone.description,
    }
    if type_ == "payment.due.v1":
        data["po_number"] = session.scalar(
            select(PurchaseOrderLink.po_number)
            .where(PurchaseOrderLink.contract_id == contract.contract_id)
            .order_by(PurchaseOrderLink.created_at.desc())
            .limit(1)
        )
    else:
        data["paid"] = money(milestone.paid_amount)
        data["owner"] = contract.owner_id or contract.owner_email
        data["task_id"] = milestone.overdue_task_id
    return CloudEvent(type=type_, source="/renewal", subject=contract.contract_id, data=data)


def record_payment(
    session: Session,
    event_id: str,
    data: dict[str, Any],
    raw: dict[str, Any],
    now: dt.datetime,
) -> str:
    """An `erp.payment.recorded`: adds to its milestone. Answers applied, duplicate (the
    payment id was recorded already) or held (no such contract or milestone here yet)."""
    if session.get(PaymentReceived, data["payment_id"]) is not None:
        return "duplicate"
    contract_id, due_date = data["contract_id"], data["due_date"]
    contract = session.get(WatchedContract, contract_id)
    milestone = _milestone(session, contract_id, due_date) if contract is not None else None
    if milestone is None:
        why = "no signed contract" if contract is None else f"no milestone due on {due_date}"
        log.warning(
            "payment %s (event %s): %s %s here, held",
            data["payment_id"],
            event_id,
            why,
            contract_id,
        )
        messages.hold(session, PAYMENT_RECORDED, contract_id, raw, event_id, now, HOLD_FOR)
        return "held"
    if data["amount"]["currency"] != milestone.currency:
        raise EventRejected(
            "payment-currency-mismatch",
            f"event {event_id}: payment {data['payment_id']} is in "
            f"{data['amount']['currency']}, the milestone of {contract_id} due on {due_date} "
            f"in {milestone.currency}",
        )
    amount = Decimal(data["amount"]["amount"])
    session.add(
        PaymentReceived(
            payment_id=data["payment_id"],
            contract_id=contract_id,
            due_date=due_date,
            amount=amount,
            currency=milestone.currency,
            paid_at=data["paid_at"],
            po_number=data.get("po_number"),
            event_id=event_id,
        )
    )
    milestone.paid_amount = Decimal(milestone.paid_amount) + amount
    if milestone.paid_amount >= milestone.amount:
        milestone.status = PAID
    session.flush()
    return "applied"


def _milestone(session: Session, contract_id: str, due_date: dt.date) -> PaymentMilestone | None:
    """The milestone a payment names, locked: one of the current schedule, or paid."""
    return session.scalar(
        select(PaymentMilestone)
        .where(
            PaymentMilestone.contract_id == contract_id,
            PaymentMilestone.due_date == due_date,
            PaymentMilestone.status != DROPPED,
        )
        .with_for_update()
    )


def release_held(session: Session, contract_id: str, now: dt.datetime) -> list[str]:
    """Payments held for this contract, applied now that it (or its new schedule) is here.
    One whose milestone is still missing stays held as it was: its own time to live, and
    the record that carried it, which its dead letter must send back."""
    held_rows = session.scalars(
        select(HeldMessageRow)
        .where(
            HeldMessageRow.message_name == PAYMENT_RECORDED,
            HeldMessageRow.correlation_key == contract_id,
            HeldMessageRow.expires_at > now,
        )
        .order_by(HeldMessageRow.received_at, HeldMessageRow.id)
        .with_for_update()
    ).all()
    outcomes = []
    for row in held_rows:
        raw = json.loads(row.payload)
        loaded = PaymentRecordedV1().load(raw)
        if _milestone(session, contract_id, loaded["due_date"]) is None:
            continue
        session.delete(row)
        session.flush()
        outcomes.append(record_payment(session, row.event_id, loaded, raw, now))
    return outcomes
