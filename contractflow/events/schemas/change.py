"""A signed contract amended or terminated, on the `contract` topic keyed by contract id.

Published by the approval service at the end of a change or termination request.
"""

from __future__ import annotations

from marshmallow import fields, validate

from contractflow.events.catalogue import EventType
from contractflow.events.schemas.common import Money, StrictSchema


class ScheduledPayment(StrictSchema):
    due_date = fields.Date(required=True)
    amount = fields.Nested(Money, required=True)
    kind = fields.String(required=True)
    description = fields.String(load_default="")


class Signatory(StrictSchema):
    user = fields.String(required=True)
    provider = fields.String(required=True)


class ContractAmendedV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    request_id = fields.String(required=True)
    amendment_number = fields.String(required=True)
    description = fields.String(required=True)
    changes = fields.Dict(required=True)
    effective_date = fields.Date(required=True)
    signed_on = fields.Date(required=True)
    signed_by = fields.Nested(Signatory, required=True)
    terms = fields.Dict(required=True)  # the new terms, as contractflow.contracts dumps them
    difference = fields.Nested(Money, required=True)
    total_after = fields.Nested(Money, required=True)
    fee_schedule = fields.List(fields.Nested(ScheduledPayment), required=True)


class Compensation(StrictSchema):
    payer = fields.String(required=True, validate=validate.OneOf(("user", "provider", "none")))
    payee = fields.String(required=True, validate=validate.OneOf(("user", "provider", "none")))
    amount = fields.Nested(Money, required=True)
    basis = fields.String(required=True)


class Settlement(StrictSchema):
    payer = fields.String(required=True, validate=validate.OneOf(("user", "provider", "none")))
    amount = fields.Nested(Money, required=True)
    note = fields.String(load_default="")


class DisputeOutcome(StrictSchema):
    stage = fields.String(required=True)
    outcome = fields.String(required=True)
    note = fields.String(load_default="")


class ContractTerminatedV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    request_id = fields.String(required=True)
    grounds = fields.String(
        required=True,
        validate=validate.OneOf(("expiry", "provider_breach", "user_convenience", "mutual")),
    )
    notice_given_on = fields.Date(required=True)
    effective_date = fields.Date(required=True)
    compensation = fields.Nested(Compensation, required=True)
    settlement = fields.Nested(Settlement, required=True)
    disputes = fields.List(fields.Nested(DisputeOutcome), load_default=list)
    handover = fields.List(fields.String(), required=True)


EVENT_TYPES = [
    EventType(
        "contract.amended",
        1,
        "contract",
        ContractAmendedV1,
        "A signed written amendment: the changes, effective date, new terms and fee schedule.",
    ),
    EventType(
        "contract.terminated",
        1,
        "contract",
        ContractTerminatedV1,
        "A contract ended early: effective date after notice, compensation and settlement.",
    ),
]
