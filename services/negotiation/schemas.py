"""Request and response shapes of negotiation's HTTP API (the task forms are in forms.py;
contract terms load through `contractflow.contracts`, so their errors name dotted clause paths)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from contractflow.contracts.schemas import TermsJson
from contractflow.contracts.schemas.base import MoneySchema
from contractflow.workflow.api_schemas import HistoryEntryOut, HumanTaskOut, InstanceOut
from services.negotiation.models import STATUSES


class Strict(Schema):
    class Meta:
        unknown = RAISE


class CreateContractBody(Strict):
    terms = TermsJson(load_default=dict)  # may be partial while drafting


class EditTermsBody(Strict):
    terms = TermsJson(required=True)
    version = fields.Integer(required=True, strict=True)


class SubmitBody(Strict):
    note = fields.String(load_default="")


class CancelBody(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ContractQuery(Strict):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    provider = fields.String(load_default=None)  # the provider's credit code or part of its name
    expiring_before = fields.Date(load_default=None)
    expiring_after = fields.Date(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class TermsBody(Strict):
    terms = TermsJson(required=True)


class FeeCheckBody(TermsBody):
    budget = fields.Nested(MoneySchema, load_default=None)
    finance_accepted = fields.Boolean(load_default=False)


class LicenceCheckBody(TermsBody):
    contract_id = fields.String(load_default=None)  # the draft itself, when it is stored


class ContractSummaryOut(Schema):
    contract_id = fields.String()
    version = fields.Integer()
    status = fields.String()
    title = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    provider_name = fields.String(allow_none=True)
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    total_amount = fields.Decimal(as_string=True, allow_none=True)
    currency = fields.String()
    created_by = fields.String()
    owner_id = fields.String(attribute="owner")  # whose contract it is (see models)
    updated_at = fields.DateTime()
    # Opened for a renewal's tender: its id, and the contract a renegotiation renews.
    tender_id = fields.String(allow_none=True)
    renews_contract_id = fields.String(allow_none=True)


class ContractListOut(Schema):
    contracts = fields.List(fields.Nested(ContractSummaryOut))


class WorkflowStateOut(Schema):
    instance = fields.Nested(InstanceOut, allow_none=True)
    open_tasks = fields.List(fields.Nested(HumanTaskOut))
    waiting_for = fields.List(fields.Dict())
    history = fields.List(fields.Nested(HistoryEntryOut))


class ContractOut(ContractSummaryOut):
    timezone = fields.String()
    terms = TermsJson()
    requirement = fields.Dict(allow_none=True)
    fee_quote = fields.Dict(allow_none=True)
    checks = fields.Dict(allow_none=True)
    feedback = fields.List(fields.Dict(), allow_none=True)
    review_round = fields.Integer()
    reviews = fields.List(fields.Dict())
    approval_request_id = fields.String(allow_none=True)
    approvals = fields.List(fields.Dict())
    signing = fields.Dict(allow_none=True)
    signed_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    after_signing = fields.List(
        fields.Dict(),
        allow_none=True,
        metadata={
            "description": "amendments and the termination, as the approval service made them"
        },
    )
    workflow = fields.Nested(WorkflowStateOut)


class CheckResultOut(Schema):
    check = fields.String()
    ok = fields.Boolean()
    problems = fields.List(fields.Dict())


class FeeQuoteOut(Schema):
    quote = fields.Dict()
    budget = fields.Dict(allow_none=True)
