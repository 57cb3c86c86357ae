"""The ERP's side of a running contract over HTTP: its payment schedule with what was paid
against each milestone, the payments received and the purchase orders linked to it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractflow.auth import require_roles
from contractflow.web import ProblemError, api_doc
from services.renewal import contract_view, payments
from services.renewal.erp_records import PaymentReceived, PurchaseOrderLink
from services.renewal.models import WatchedContract

READ_ROLES = ("renewal-manager", "contract-viewer", "admin")
MONEY = {"as_string": True, "places": 2}


class MilestoneView(Schema):
    due_date = fields.Date()
    amount = fields.Decimal(**MONEY)
    paid_amount = fields.Decimal(**MONEY)
    outstanding = fields.Decimal(**MONEY)
    currency = fields.String()
    description = fields.String()
    status = fields.String(
        metadata={
            "description": "open, paid, dropped by an amendment, or cancelled: due after a "
            "termination's effective date (nothing outstanding)"
        }
    )
    overdue_task_id = fields.String(allow_none=True)


class PaymentView(Schema):
    payment_id = fields.String()
    due_date = fields.Date()
    amount = fields.Decimal(**MONEY)
    currency = fields.String()
    paid_at = fields.AwareDateTime()
    po_number = fields.String(allow_none=True)


class PurchaseOrderView(Schema):
    po_number = fields.String()
    amount = fields.Decimal(**MONEY)
    currency = fields.String()
    created_at = fields.AwareDateTime()
    matches_total = fields.Boolean()
    task_id = fields.String(allow_none=True)


class TerminationView(Schema):
    """What `contract.terminated` settled, as the approval service's workflow recorded it."""

    effective_date = fields.Date()
    grounds = fields.String()
    notice_given_on = fields.String()
    compensation = fields.Dict(
        allow_none=True, metadata={"description": "payer, payee, amount, basis"}
    )
    settlement = fields.Dict(metadata={"description": "payer, amount, note"})


class ContractPayments(Schema):
    contract_id = fields.String()
    termination = fields.Nested(
        TerminationView, allow_none=True, metadata={"description": "null unless terminated"}
    )
    milestones = fields.List(fields.Nested(MilestoneView))
    payments = fields.List(fields.Nested(PaymentView))
    purchase_orders = fields.List(fields.Nested(PurchaseOrderView))


def make_blueprint(sessions: sessionmaker[Session]) -> Blueprint:
    api = Blueprint("renewal_payments", __name__)

    @api.get("/contracts/<contract_id>/payments")
    @require_roles(*READ_ROLES)
    @api_doc(
        "The contract's payment schedule (paid and outstanding per milestone), the payments "
        "and the purchase orders the ERP reported",
        response=ContractPayments,
    )
    def contract_payments(contract_id: str) -> Any:
        with sessions() as session:
            try:
                contract = contract_view.get_contract(session, contract_id)
            except contract_view.ContractNotWatched as exc:
                raise ProblemError(404, "Contract not watched", str(exc)) from None
            body = {
                "contract_id": contract_id,
                "termination": _termination(contract),
                "milestones": payments.milestones(session, contract_id),
                "payments": session.scalars(
                    select(PaymentReceived)
                    .where(PaymentReceived.contract_id == contract_id)
                    .order_by(PaymentReceived.paid_at)
                ).all(),
                "purchase_orders": session.scalars(
                    select(PurchaseOrderLink)
                    .where(PurchaseOrderLink.contract_id == contract_id)
                    .order_by(PurchaseOrderLink.created_at)
                ).all(),
            }
            return jsonify(ContractPayments().dump(body))

    return api


def _termination(contract: WatchedContract) -> dict[str, Any] | None:
    facts = contract.termination
    if contract.terminated_on is None or facts is None:
        return None
    return {
        "effective_date": contract.terminated_on,
        "grounds": contract.termination_grounds,
        "notice_given_on": facts["notice_given_on"],
        "compensation": facts.get("compensation"),
        "settlement": facts["settlement"],
    }
