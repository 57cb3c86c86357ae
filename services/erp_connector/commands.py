"""What an operator of the reference ERP does by hand (the demo's ERP does the first two by
itself with ERP_AUTO_ANSWER=1). Each command is one transaction: the ledger row and the
event it sends (through the outbox, which the worker relays) commit together.

    python -m services.erp_connector ledger [CONTRACT_ID]
    python -m services.erp_connector po CONTRACT_ID PO_NUMBER [--amount 120000.00]
    python -m services.erp_connector pay CONTRACT_ID DUE_DATE [--amount 30000.00]
    python -m services.erp_connector vendor VENDOR_ID NAME --licence NO --licence-valid-until DATE
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from contractflow.db import unit_of_work, utcnow
from contractflow.events.envelope import CloudEvent
from services.erp_connector import ledger
from services.erp_connector.bootstrap import bootstrap
from services.erp_connector.models import LedgerContract, LedgerMilestone, LedgerPurchaseOrder


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount such as 30000.00") from None
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.erp_connector", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("ledger", help="print the booked contracts and their plan")
    show.add_argument("contract_id", nargs="?")
    po = commands.add_parser("po", help="open a purchase order for a contract")
    po.add_argument("contract_id")
    po.add_argument("po_number")
    po.add_argument("--amount", type=_amount, help="default: the contract's total")
    pay = commands.add_parser("pay", help="pay (part of) the milestone due on DUE_DATE")
    pay.add_argument("contract_id")
    pay.add_argument("due_date", type=dt.date.fromisoformat)
    pay.add_argument("--amount", type=_amount, help="default: what is still open")
    vendor = commands.add_parser("vendor", help="publish a provider's master data")
    vendor.add_argument("vendor_id")
    vendor.add_argument("name")
    vendor.add_argument("--licence", required=True, help="business licence number")
    vendor.add_argument("--licence-valid-until", type=dt.date.fromisoformat, required=True)
    args = parser.parse_args(argv)

    kernel = bootstrap()
    try:
        with unit_of_work(kernel.sessions) as session:
            now = utcnow()
            if args.command == "ledger":
                _print_ledger(session, args.contract_id)
            elif args.command == "po":
                order = ledger.create_purchase_order(
                    session, kernel.outbox, args.contract_id, args.po_number, args.amount, now
                )
                print(f"purchase order {order.po_number}: {order.amount} {order.currency}")
            elif args.command == "pay":
                payment = ledger.record_payment(
                    session, kernel.outbox, args.contract_id, args.due_date, args.amount, now
                )
                print(f"payment {payment.payment_id}: {payment.amount} {payment.currency}")
            else:
                kernel.outbox.record(session, _vendor_event(args, now))
                print(f"vendor {args.vendor_id} published")
    except (ledger.LedgerRefused, ledger.UnknownContract) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    finally:
        kernel.close()
    return 0


def _vendor_event(args: argparse.Namespace, now: dt.datetime) -> CloudEvent:
    return CloudEvent(
        type="erp.vendor.updated.v1",
        source=ledger.SOURCE,
        subject=args.vendor_id,
        data={
            "vendor_id": args.vendor_id,
            "name": args.name,
            "business_licence": {
                "name": "营业执照 business licence",
                "number": args.licence,
                "valid_until": args.licence_valid_until.isoformat(),
            },
            "certifications": [],
            "updated_at": now.isoformat(),
        },
    )


def _print_ledger(session: object, contract_id: str | None) -> None:
    query = select(LedgerContract).order_by(LedgerContract.contract_id)
    if contract_id:
        query = query.where(LedgerContract.contract_id == contract_id)
    for contract in session.scalars(query):  # type: ignore[attr-defined]
        print(
            f"{contract.contract_id}  {contract.status:10}  {contract.total_amount} "
            f"{contract.currency}  {contract.start_date} – {contract.end_date}  {contract.title}"
        )
        for order in session.scalars(  # type: ignore[attr-defined]
            select(LedgerPurchaseOrder).where(
                LedgerPurchaseOrder.contract_id == contract.contract_id
            )
        ):
            print(f"    PO {order.po_number}: {order.amount} {order.currency}")
        for milestone in session.scalars(  # type: ignore[attr-defined]
            select(LedgerMilestone)
            .where(LedgerMilestone.contract_id == contract.contract_id)
            .order_by(LedgerMilestone.due_date)
        ):
            print(
                f"    {milestone.due_date}  {milestone.amount:>12}"
                f"  paid {milestone.paid_amount:>12}  {milestone.description}"
            )
