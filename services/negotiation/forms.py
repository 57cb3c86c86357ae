"""The forms of the pre-signing workflow's human tasks, one marshmallow schema per formKey.

Completion data loads through these (a bad field is a 422 naming it); what they load is
plain JSON (decimals and instants as strings) because it becomes workflow variables.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from contractflow.contracts.schemas.base import CURRENCY_CODE, NOT_BLANK, StrictDecimal

DECISIONS = ("accept", "send_back")


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class WorkflowForm(Schema):
    class Meta:
        unknown = RAISE

    @post_load
    def as_workflow_variables(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return json.loads(json.dumps(data, default=_plain))


class BudgetField(Schema):
    class Meta:
        unknown = RAISE

    amount = StrictDecimal(required=True, max_places=2, validate=validate.Range(min=0))
    currency = fields.String(load_default="CNY", validate=CURRENCY_CODE)


class RequirementForm(WorkflowForm):
    """Define the need: it drives the service scope, and the budget the total is held to."""

    need = fields.String(required=True, validate=NOT_BLANK)
    scope = fields.String(load_default="")
    budget = fields.Nested(BudgetField, required=True)


class ProviderCandidate(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=NOT_BLANK)
    notes = fields.String(load_default="")


class ProviderResearchForm(WorkflowForm):
    """Reputation, service quality, technical strength, reviews of the providers looked at."""

    providers_considered = fields.List(fields.Nested(ProviderCandidate), load_default=list)
    chosen_provider = fields.String(required=True, validate=NOT_BLANK)
    notes = fields.String(load_default="")


class SubmitDraftForm(WorkflowForm):
    note = fields.String(load_default="")


class ReviewForm(WorkflowForm):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    comments = fields.String(load_default="")

    @validates_schema
    def send_back_says_why(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("decision") == "send_back" and not data.get("comments", "").strip():
            raise ValidationError("say what must change when sending the draft back", "comments")


class FinanceReviewForm(ReviewForm):
    # Over budget needs finance to accept the excess explicitly, never by default.
    accept_over_budget = fields.Boolean(load_default=False)


class Signatory(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=NOT_BLANK)
    title = fields.String(load_default=None, allow_none=True)
    signed_at = fields.AwareDateTime(required=True)


class SigningForm(WorkflowForm):
    """Who signed for each side and when, and which document, by reference and SHA-256."""

    user_signatory = fields.Nested(Signatory, required=True)
    provider_signatory = fields.Nested(Signatory, required=True)
    document_reference = fields.String(required=True, validate=NOT_BLANK)
    document_sha256 = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$", error="must be 64 lowercase hex digits"),
    )


FORMS: dict[str, type[Schema]] = {
    "requirement": RequirementForm,
    "provider_research": ProviderResearchForm,
    "submit_draft": SubmitDraftForm,
    "legal_review": ReviewForm,
    "technical_review": ReviewForm,
    "finance_review": FinanceReviewForm,
    "signing": SigningForm,
}
