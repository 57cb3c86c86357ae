"""Purchase orders the ERP opens for a running contract (`erp.purchase_order.created`):
linked to the contract; one whose amount differs from the contract's total opens a task
for the owner. A PO for a contract not signed here yet is held until it is.

An amendment that changes the total judges the linked POs again (`follow_total`): one that
differs now opens a task, and a task still open about a total that is no more is withdrawn
with the reason (matching now, or superseded by the task about the new total). Each
amendment is applied once, so each PO is asked about once per total it differs from.

A termination makes the difference moot: the open tasks are withdrawn with the reason
(`withdraw_at_termination`), and a PO linked after it asks nothing."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.events.rejection import EventRejected
from contractflow.events.schemas.erp import PurchaseOrderCreatedV1
from contractflow.workflow import WorkflowRuntime, messages
from services.renewal.erp_records import PurchaseOrderLink
from services.renewal.mails import RenewalMails
from services.renewal.models import TERMINATED, WatchedContract
from services.renewal.owner_tasks import open_task, withdraw_task
from services.renewal.payments import HOLD_FOR

log = logging.getLogger(__name__)

PO_CREATED = "erp.purchase_order.created.v1"
MISMATCH_PROCESS = "purchase_order_mismatch"


def link_purchase_order(
    session: Session,
    runtime: WorkflowRuntime,
    event_id: str,
    data: dict[str, Any],
    raw: dict[str, Any],
    now: dt.datetime,
    mails: RenewalMails,
) -> str:
    """Answers linked, mismatch (linked, and a task opened), duplicate or held. The same
    PO number again with another contract or amount is refused: POs are not edited."""
    contract_id, po_number = data["contract_id"], data["po_number"]
    amount, currency = Decimal(data["amount"]["amount"]), data["amount"]["currency"]
    known = session.get(PurchaseOrderLink, po_number)
    if known is not None:
        if (known.contract_id, Decimal(known.amount), known.currency) == (
            contract_id,
            amount,
            currency,
        ):
            return "duplicate"
        raise EventRejected(
            "purchase-order-conflict",
            f"event {event_id}: purchase order {po_number} is linked to contract "
            f"{known.contract_id} for {known.amount} {known.currency} already; it says "
            f"contract {contract_id}, {amount} {currency}",
        )
    contract = session.get(WatchedContract, contract_id)
    if contract is None:
        log.warning(
            "purchase order %s (event %s): no contract %s here, held",
            po_number,
            event_id,
            contract_id,
        )
        messages.hold(session, PO_CREATED, contract_id, raw, event_id, now, HOLD_FOR)
        return "held"
    matches = (amount, currency) == (Decimal(contract.total_amount), contract.currency)
    link = PurchaseOrderLink(
        po_number=po_number,
        contract_id=contract_id,
        amount=amount,
        currency=currency,
        created_at=data["created_at"],
        matches_total=matches,
        event_id=event_id,
    )
    session.add(link)
    if matches or contract.status == TERMINATED:
        return "linked"
    _ask_owner(session, runtime, link, contract, now, mails)
    return "mismatch"


def follow_total(
    session: Session,
    runtime: WorkflowRuntime,
    contract: WatchedContract,
    before: tuple[Decimal, str],
    because: str,
    now: dt.datetime,
    mails: RenewalMails,
) -> dict[str, str]:
    """The contract's total was `before` (amount, currency) until `because` (the amendment)
    changed it: each linked PO judged against the new one. Answers, per PO number, matches
    or mismatch; nothing when the total did not change."""
    total = (Decimal(contract.total_amount), contract.currency)
    if (Decimal(before[0]), before[1]) == total:
        return {}
    shown_total = f"{total[0]:.2f} {total[1]}"
    outcomes = {}
    links = session.scalars(
        select(PurchaseOrderLink)
        .where(PurchaseOrderLink.contract_id == contract.contract_id)
        .order_by(PurchaseOrderLink.created_at, PurchaseOrderLink.po_number)
    )
    for link in links:
        link.matches_total = (Decimal(link.amount), link.currency) == total
        if link.matches_total:
            withdraw_task(
                session,
                runtime,
                link.task_id,
                f"purchase order {link.po_number} ({link.amount:.2f} {link.currency}) matches "
                f"the contract total {shown_total} since {because}",
            )
            outcomes[link.po_number] = "matches"
            continue
        withdraw_task(
            session,
            runtime,
            link.task_id,
            f"the contract total is {shown_total} since {because}: a new task states "
            f"the difference of purchase order {link.po_number}",
        )
        _ask_owner(session, runtime, link, contract, now, mails)
        outcomes[link.po_number] = "mismatch"
    session.flush()
    return outcomes


def withdraw_at_termination(
    session: Session, runtime: WorkflowRuntime, contract: WatchedContract, because: str
) -> list[str]:
    """The contract is terminated (`because` says when): the difference of a linked PO
    from its total is asked about no more. Answers the PO numbers whose task was withdrawn
    (none the owner had answered already)."""
    links = session.scalars(
        select(PurchaseOrderLink)
        .where(
            PurchaseOrderLink.contract_id == contract.contract_id,
            PurchaseOrderLink.task_id.is_not(None),
        )
        .order_by(PurchaseOrderLink.po_number)
    )
    return [
        link.po_number
        for link in links
        if withdraw_task(
            session,
            runtime,
            link.task_id,
            f"{because}: the difference of purchase order {link.po_number} "
            f"({link.amount:.2f} {link.currency}) from the contract total is moot",
        )
    ]


def _ask_owner(
    session: Session,
    runtime: WorkflowRuntime,
    link: PurchaseOrderLink,
    contract: WatchedContract,
    now: dt.datetime,
    mails: RenewalMails,
) -> None:
    """The owner's task (and its mail) about a PO that differs from the total as it is."""
    amount, total = Decimal(link.amount), Decimal(contract.total_amount)
    link.task_id = open_task(
        session,
        runtime,
        MISMATCH_PROCESS,
        contract,
        {
            "po_number": link.po_number,
            "po_amount": f"{amount:.2f} {link.currency}",
            "contract_total": f"{total:.2f} {contract.currency}",
            "difference": f"{amount - total:.2f}" if link.currency == contract.currency else None,
        },
        now,
        mails=mails,
    )
    session.flush()


def release_held(
    session: Session,
    runtime: WorkflowRuntime,
    contract_id: str,
    now: dt.datetime,
    mails: RenewalMails,
) -> list[str]:
    """Purchase orders held for a contract that has now been signed here (so none is held
    again)."""
    taken = []
    while (held := messages.take_held(session, PO_CREATED, contract_id, now)) is not None:
        taken.append(held)
    return [
        link_purchase_order(
            session,
            runtime,
            held.event_id,
            PurchaseOrderCreatedV1().load(held.payload),
            held.payload,
            now,
            mails,
        )
        for held in taken
    ]
