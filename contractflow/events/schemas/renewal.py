"""Expiry, supervision and evaluation of signed contracts.

`contract.expiring` and `contract.evaluated` (published by the renewal service) travel on
the `contract` topic keyed by contract id, beside the rest of a contract's story.
`service.kpi.reported` and `maintenance.performed` come from providers or monitoring
systems, on the `service` topic, also keyed by contract id.
"""

from __future__ import annotations

from marshmallow import fields, validate

from contractflow.events.catalogue import EventType
from contractflow.events.schemas.common import Money, StrictSchema

DEADLINE_KINDS = ("expiry", "objection")
PERCENT = validate.Range(min=0, max=100)


class ContractExpiringV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    # expiry: the service term ends on `deadline_date`; objection: `deadline_date` is the
    # last day to object to an automatic renewal (end date minus the notice period).
    deadline_kind = fields.String(required=True, validate=validate.OneOf(DEADLINE_KINDS))
    deadline_date = fields.Date(required=True)
    days_left = fields.Integer(required=True)
    end_date = fields.Date(required=True)
    auto_renew = fields.Boolean(required=True)
    owner = fields.String(required=True, allow_none=True)
    task_id = fields.String(required=True, allow_none=True)


class ServiceKpiReportedV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    availability_percent = fields.Decimal(required=True, as_string=True, validate=PERCENT)
    mean_response_minutes = fields.Decimal(
        required=True, as_string=True, validate=validate.Range(min=0)
    )
    fault_fix_rate_percent = fields.Decimal(required=True, as_string=True, validate=PERCENT)
    incidents = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    reported_by = fields.String(required=True)


class MaintenancePerformedV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    item = fields.String(required=True, validate=validate.Length(min=1))
    period_start = fields.Date(required=True)
    performed_on = fields.Date(required=True)
    evidence_reference = fields.String(required=True, validate=validate.Length(min=1))
    reported_by = fields.String(required=True)


class KpiScore(StrictSchema):
    kpi = fields.String(required=True)
    target = fields.Decimal(required=True, as_string=True, allow_none=True)
    measured = fields.Decimal(required=True, as_string=True, allow_none=True)
    weight = fields.Decimal(required=True, as_string=True)
    # None while not scored: status no_target (no target agreed) or not_measured.
    score = fields.Decimal(required=True, as_string=True, allow_none=True)
    status = fields.String(validate=validate.OneOf(("scored", "no_target", "not_measured")))
    explanation = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class ContractEvaluatedV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    evaluation_id = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    # None with rating not_measured: nothing was measured in the period yet.
    total_score = fields.Decimal(required=True, as_string=True, allow_none=True)
    rating = fields.String(required=True)
    scores = fields.List(fields.Nested(KpiScore), required=True)
    maintenance_missed = fields.List(fields.String(), required=True)
    evaluated_at = fields.AwareDateTime(required=True)


class ContractExtendedV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    # automatic: the contract renewed itself, nobody objected by the deadline;
    # temporary: a bounded continuation while a new contract or provider is found.
    kind = fields.String(required=True, validate=validate.OneOf(("automatic", "temporary")))
    previous_end_date = fields.Date(required=True)
    until = fields.Date(required=True)
    fee = fields.Nested(Money, required=True)
    approval_request_id = fields.String(load_default=None, allow_none=True)


class ContractRenewedV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    previous_end_date = fields.Date(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    total = fields.Nested(Money, required=True)
    index_percent = fields.Decimal(required=True, as_string=True)
    approval_request_id = fields.String(load_default=None, allow_none=True)
    # Optional (added compatibly): renewed by a renegotiated contract, whose term and total
    # these are; index_percent is then how much its total differs from the old one's.
    renewed_by_contract_id = fields.String(load_default=None, allow_none=True)


class TenderRequestedV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    tender_id = fields.String(required=True)
    # renewal: renegotiate with the provider, a draft prefilled from the current terms;
    # new_provider: find another provider after a handover.
    kind = fields.String(required=True, validate=validate.OneOf(("renewal", "new_provider")))
    requested_by = fields.String(required=True)
    reason = fields.String(required=True)
    current_terms = fields.Dict(load_default=None, allow_none=True)
    needed_from = fields.Date(required=True)


class DataExport(StrictSchema):
    record_count = fields.Integer(required=True, validate=validate.Range(min=0))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    confirmed_by = fields.String(required=True)


class ContractHandoverCompletedV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    # expiry: the term ran out (let it end); termination: after contract.terminated
    reason = fields.String(required=True, validate=validate.OneOf(("expiry", "termination")))
    notice_sent_on = fields.Date(required=True)
    data_export = fields.Nested(DataExport, required=True)
    checklist = fields.Dict(keys=fields.String(), required=True)
    settlement = fields.Dict(keys=fields.String(), required=True)
    tender_id = fields.String(load_default=None, allow_none=True)
    completed_at = fields.AwareDateTime(required=True)


class ContractExpiredV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    end_date = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(("expiry", "termination")))


EVENT_TYPES = [
    EventType(
        "contract.expiring",
        1,
        "contract",
        ContractExpiringV1,
        "A reminder before a contract's end or its last day to object to automatic renewal.",
    ),
    EventType(
        "contract.evaluated",
        1,
        "contract",
        ContractEvaluatedV1,
        "The provider scored against the contract's own standards, with explanations.",
    ),
    EventType(
        "contract.extended",
        1,
        "contract",
        ContractExtendedV1,
        "A contract continues past its end: automatically (no objection) or temporarily.",
    ),
    EventType(
        "contract.renewed",
        1,
        "contract",
        ContractRenewedV1,
        "A contract renewed on the same terms (fees as before or indexed) for a new term.",
    ),
    EventType(
        "tender.requested",
        1,
        "contract",
        TenderRequestedV1,
        "Ask the negotiation service for a new draft: renegotiation or a new provider.",
    ),
    EventType(
        "contract.handover.completed",
        1,
        "contract",
        ContractHandoverCompletedV1,
        "Data handed over (count and checksum confirmed), checklist done, fees settled.",
    ),
    EventType(
        "contract.expired",
        1,
        "contract",
        ContractExpiredV1,
        "The contract is over: handed over after its end or its termination.",
    ),
    EventType(
        "service.kpi.reported",
        1,
        "service",
        ServiceKpiReportedV1,
        "A period's measured service levels of one contract (provider or monitoring).",
    ),
    EventType(
        "maintenance.performed",
        1,
        "service",
        MaintenancePerformedV1,
        "Evidence that a maintenance item of the contract's schedule was done in a period.",
    ),
]
