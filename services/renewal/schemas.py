"""Renewal's HTTP bodies, queries, responses and task forms (marshmallow)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from contractflow.contracts.schemas.decimals import StrictDecimal
from contractflow.events.schemas.common import CURRENCY, StrictSchema
from services.renewal.handover_forms import HANDOVER_FORMS

PERCENT = validate.Range(min=0, max=100)
# A KPI report is stored as Numeric(7, 3) percentages and Numeric(10, 2) minutes.
KPI_PERCENT = {"max_places": 3, "validate": PERCENT}
MINUTES = {"max_places": 2, "validate": validate.Range(min=0, max=99_999_999)}
STATUSES = ("active", "expired", "terminated")


# -- task forms ------------------------------------------------------------------------
class ExpiryReminderForm(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(("noted", "object_to_renewal")))
    note = fields.String(load_default="")

    @validates_schema
    def objection_needs_a_reason(self, data, **_):
        if data["outcome"] == "object_to_renewal" and not data["note"].strip():
            raise ValidationError("say why the contract must not renew itself", "note")


class MissedMaintenanceForm(StrictSchema):
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(("provider_contacted", "evidence_found", "waived")),
    )
    note = fields.String(load_default="")


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal | dt.date):
        return str(value) if isinstance(value, decimal.Decimal) else value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class FeeField(StrictSchema):
    amount = StrictDecimal(required=True, max_places=2, validate=validate.Range(min=0))
    currency = fields.String(load_default="CNY", validate=CURRENCY)


class RenewalDecisionForm(StrictSchema):
    """The owner's decision at the end of the term; workflow variables are plain JSON."""

    choice = fields.String(
        required=True,
        validate=validate.OneOf(
            ("renew_same_terms", "renegotiate", "temporary_extension", "let_end")
        ),
    )
    index_percent = StrictDecimal(
        load_default=decimal.Decimal(0), max_places=2, validate=validate.Range(min=-50, max=100)
    )
    until = fields.Date(load_default=None)
    fee = fields.Nested(FeeField, load_default=None)
    note = fields.String(load_default="")

    @validates_schema
    def temporary_needs_until_and_fee(self, data, **_):
        if data["choice"] == "temporary_extension":
            missing = {
                name: ["required for a temporary extension"]
                for name in ("until", "fee")
                if data.get(name) is None
            }
            if missing:
                raise ValidationError(missing)

    @post_load
    def as_workflow_variables(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return json.loads(json.dumps(data, default=_plain))


FORMS = {
    "expiry_reminder": ExpiryReminderForm,
    "missed_maintenance": MissedMaintenanceForm,
    "renewal_decision": RenewalDecisionForm,
    **HANDOVER_FORMS,
}


# -- bodies and queries ----------------------------------------------------------------
class OwnerBody(StrictSchema):
    owner_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(load_default=None)
    email = fields.Email(load_default=None)
    language = fields.String(load_default=None, validate=validate.OneOf(("zh", "en")))


class ObjectionBody(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1))


class KpiReportBody(StrictSchema):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    availability_percent = StrictDecimal(required=True, **KPI_PERCENT)
    mean_response_minutes = StrictDecimal(required=True, **MINUTES)
    fault_fix_rate_percent = StrictDecimal(required=True, **KPI_PERCENT)
    incidents = fields.Integer(load_default=None, validate=validate.Range(min=0))


class MaintenanceBody(StrictSchema):
    item = fields.String(required=True, validate=validate.Length(min=1))
    period_start = fields.Date(required=True)
    performed_on = fields.Date(required=True)
    evidence_reference = fields.String(required=True, validate=validate.Length(min=1))


class EvaluationBody(StrictSchema):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)

    @validates_schema
    def ordered(self, data, **_):
        if data["period_end"] < data["period_start"]:
            raise ValidationError("must not be before period_start", "period_end")


class ContractQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    expiring_before = fields.Date()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class DeadlineQuery(StrictSchema):
    """One day (`day`), or the ISO week (Monday to Sunday) containing `week`."""

    day = fields.Date()
    week = fields.Date()
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))

    @validates_schema
    def one_of_day_or_week(self, data, **_):
        if ("day" in data) == ("week" in data):
            raise ValidationError("give either day or week (a date in the week)", "day")


# -- responses -------------------------------------------------------------------------
class DeadlineView(Schema):
    id = fields.Integer()
    contract_id = fields.String()
    title = fields.String()
    kind = fields.String()
    item = fields.String()
    offset_days = fields.Integer()
    deadline_date = fields.Date()
    due_on = fields.Date()
    due_at = fields.AwareDateTime()
    status = fields.String()
    task_id = fields.String(allow_none=True)


class ContractView(Schema):
    contract_id = fields.String()
    title = fields.String()
    provider_id = fields.String()
    provider_name = fields.String()
    status = fields.String()
    start_date = fields.Date()
    end_date = fields.Date()
    days_to_expiry = fields.Integer()
    auto_renew = fields.Boolean()
    notice_period_days = fields.Integer()
    objection_deadline = fields.Date(allow_none=True)
    renewal_conditions = fields.String(allow_none=True)
    licence_end_date = fields.Date(allow_none=True)
    total_amount = fields.Decimal(as_string=True)
    currency = fields.String()
    timezone = fields.String()
    service_standards = fields.Dict()
    maintenance_schedule = fields.List(fields.Dict())
    owner_id = fields.String(allow_none=True)
    owner_name = fields.String(allow_none=True)
    owner_email = fields.String(allow_none=True)
    amendments = fields.List(fields.String())
    terminated_on = fields.Date(allow_none=True)
    termination_grounds = fields.String(allow_none=True)
    objected_at = fields.AwareDateTime(allow_none=True)
    objected_by = fields.String(allow_none=True)
    objection_reason = fields.String(allow_none=True)
    end_decision = fields.String(allow_none=True)
    renewed_by_contract_id = fields.String(allow_none=True)
    renews_contract_id = fields.String(allow_none=True)
    next_deadline = fields.Nested(DeadlineView, allow_none=True)


class ContractList(Schema):
    items = fields.List(fields.Nested(ContractView))


class DeadlineList(Schema):
    """The days' counts (pending and fired, by kind) and one page of their deadlines."""

    first_day = fields.Date()
    last_day = fields.Date()
    total = fields.Integer()
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer())
    offset = fields.Integer()
    items = fields.List(fields.Nested(DeadlineView))


class EvaluationView(Schema):
    evaluation_id = fields.String()
    contract_id = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    total_score = fields.Decimal(as_string=True)
    rating = fields.String()
    result = fields.Dict()
    evaluated_at = fields.AwareDateTime()


class EvaluationList(Schema):
    items = fields.List(fields.Nested(EvaluationView))


class MaintenanceView(Schema):
    contract_id = fields.String()
    item = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    status = fields.String()
    performed_on = fields.Date(allow_none=True)
    evidence_reference = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)


class KpiReportView(Schema):
    contract_id = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    availability_percent = fields.Decimal(as_string=True)
    mean_response_minutes = fields.Decimal(as_string=True)
    fault_fix_rate_percent = fields.Decimal(as_string=True)
    incidents = fields.Integer(allow_none=True)
    reported_by = fields.String()
