"""Purchase orders the ERP opens for a running contract (`erp.purchase_order.created`):
linked to the contract; one whose amount differs from the contract's total opens a task
for the owner. A PO for a contract not signed here yet is held until it is."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from contractflow.events.rejection import EventRejected
from contractflow.events.schemas.erp import PurchaseOrderCreatedV1
from contractflow.workflow import WorkflowRuntime, messages
from services.renewal.erp_records import PurchaseOrderLink
from services.renewal.models import WatchedContract
from services.renewal.owner_tasks import open_task
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
    if matches:
        return "linked"
    link.task_id = open_task(
        session,
        runtime,
        MISMATCH_PROCESS,
        contract,
        {
            "po_number": po_number,
            "po_amount": f"{amount:.2f} {currency}",
            "contract_total": f"{contract.total_amount:.2f} {contract.currency}",
            "difference": f"{amount - Decimal(contract.total_amount):.2f}"
            if currency == contract.currency
            else None,
        },
        now,
    )
    session.flush()
    return "mismatch"


def release_held(
    session: Session, runtime: WorkflowRuntime, contract_id: str, now: dt.datetime
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
        )
        for held in taken
    ]
