"""Bodies of the change and termination request API and the forms of their user tasks.

Form schemas turn dates into ISO strings: workflow variables stay JSON.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from contractflow.contracts.schemas import TermsJson
from contractflow.contracts.schemas.decimals import StrictDecimal
from contractflow.web.fields import HttpUrl

RISKS = validate.OneOf(("low", "medium", "high"))
GROUNDS = ("expiry", "provider_breach", "user_convenience", "mutual")
SIDES = validate.OneOf(("user", "provider", "none"))


def _iso(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


class ChangeItems(Schema):
    modules_added = fields.List(fields.String(), load_default=list)
    modules_removed = fields.List(fields.String(), load_default=list)
    fees = fields.String(load_default=None, allow_none=True)
    term = fields.String(load_default=None, allow_none=True)
    service_standards = fields.String(load_default=None, allow_none=True)
    licence_scope = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def something_changes(self, data: dict[str, Any], **_: Any) -> None:
        if not any(data.values()):
            raise ValidationError("name at least one change", "_schema")


class ChangeRequestBody(Schema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    effective_date = fields.Date(required=True)
    changes = fields.Nested(ChangeItems, required=True)
    # Optional: by default the request starts from the terms the read model holds (as
    # signed, as last amended here); send them for a contract signed before they travelled.
    current_terms = TermsJson(load_default=None, allow_none=True)
    new_terms = TermsJson(required=True)
    risk = fields.String(load_default="medium", validate=RISKS)
    subject_url = HttpUrl(load_default=None, allow_none=True)


class TerminationRequestBody(Schema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    grounds = fields.String(required=True, validate=validate.OneOf(GROUNDS))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    notice_given_on = fields.Date(required=True)
    requested_effective_date = fields.Date(load_default=None, allow_none=True)
    claimed_damages = StrictDecimal(load_default=None, allow_none=True, max_places=2)
    current_terms = TermsJson(load_default=None, allow_none=True)  # as for a change
    risk = fields.String(load_default="high", validate=RISKS)
    subject_url = HttpUrl(load_default=None, allow_none=True)


class AmendmentSignatureForm(Schema):
    amendment_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    signed_on = fields.Date(required=True)
    signed_for_user = fields.String(required=True, validate=validate.Length(min=1, max=200))
    signed_for_provider = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amendment_text = fields.String(load_default=None, allow_none=True)

    @post_load
    def as_json(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _iso(data)


class ProviderResponseForm(Schema):
    disputed = fields.Boolean(required=True)
    provider_note = fields.String(load_default="")


class DisputeStageForm(Schema):
    dispute_stage = fields.String(
        required=True, validate=validate.OneOf(("negotiation", "arbitration", "litigation"))
    )
    # terminate: the termination goes ahead; continue_contract: it is withdrawn;
    # escalate: not resolved at this stage, the next stage follows.
    dispute_outcome = fields.String(
        required=True, validate=validate.OneOf(("terminate", "continue_contract", "escalate"))
    )
    dispute_note = fields.String(load_default="")


class HandoverForm(Schema):
    """The handover checks of termination_request versions before the one handover (the
    data handover now runs in renewal): kept registered while instances of those versions
    may still wait on them, since a deployed version's forms must all be known at start."""

    confirmed = fields.Boolean(required=True, validate=validate.Equal(True))
    verified_by = fields.String(required=True, validate=validate.Length(min=1))
    handover_note = fields.String(load_default="")


class FeeSettlementForm(Schema):
    settlement_payer = fields.String(required=True, validate=SIDES)
    settlement_amount = StrictDecimal(required=True, max_places=2)
    settlement_currency = fields.String(load_default="CNY", validate=validate.Regexp(r"^[A-Z]{3}$"))
    settlement_note = fields.String(load_default="")

    @post_load
    def as_json(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {**data, "settlement_amount": str(data["settlement_amount"])}


FORMS = {
    "amendment_signature": AmendmentSignatureForm,
    "provider_response": ProviderResponseForm,
    "dispute_stage": DisputeStageForm,
    "handover_check": HandoverForm,
    "fee_settlement": FeeSettlementForm,
}
