"""Task forms of the owner's follow-ups of ERP facts: an overdue payment, a purchase order
that differs from the total, a provider licence ending during the contract."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contractflow.events.schemas.common import StrictSchema


def _follow_up_form(name: str, outcomes: tuple[str, ...]) -> type[Schema]:
    return type(
        name,
        (StrictSchema,),
        {
            "outcome": fields.String(required=True, validate=validate.OneOf(outcomes)),
            "note": fields.String(load_default=""),
        },
    )


ERP_FORMS: dict[str, type[Schema]] = {
    "payment_overdue": _follow_up_form(
        "PaymentOverdueForm", ("finance_chased", "paid_outside_erp", "disputed", "waived")
    ),
    "purchase_order_mismatch": _follow_up_form(
        "PurchaseOrderMismatchForm", ("po_corrected", "difference_accepted", "contract_to_amend")
    ),
    "provider_licence_expiring": _follow_up_form(
        "ProviderLicenceExpiringForm",
        ("renewed_licence_received", "provider_asked", "risk_accepted"),
    ),
}
