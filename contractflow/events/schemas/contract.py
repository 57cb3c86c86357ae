"""Events about a contract's life, on the `contract` topic keyed by contract id."""

from __future__ import annotations

from marshmallow import fields, validate

from contractflow.events.catalogue import EventType
from contractflow.events.schemas.common import Money, StrictSchema


class Party(StrictSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class Payment(StrictSchema):
    due_date = fields.Date(required=True)
    amount = fields.Nested(Money, required=True)
    description = fields.String(required=True)
    # Optional (added compatibly): codes of the fee lines this payment pays for.
    covers = fields.List(fields.String())


class Signatory(StrictSchema):
    side = fields.String(required=True, validate=validate.OneOf(("user", "provider")))
    name = fields.String(required=True)
    title = fields.String(allow_none=True)
    signed_at = fields.AwareDateTime(required=True)


class SignedDocument(StrictSchema):
    reference = fields.String(required=True, validate=validate.Length(min=1))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class ContractSignedV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    title = fields.String(required=True)
    user = fields.Nested(Party, required=True)
    provider = fields.Nested(Party, required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    auto_renew = fields.Boolean(required=True)
    notice_period_days = fields.Integer(required=True, validate=validate.Range(min=0))
    total = fields.Nested(Money, required=True)
    payment_schedule = fields.List(fields.Nested(Payment), required=True)
    signed_at = fields.AwareDateTime(required=True)
    # Optional (added compatibly): who signed for each side and when, and the document.
    signatories = fields.List(fields.Nested(Signatory))
    signed_document = fields.Nested(SignedDocument)
    # Optional (added compatibly): the signed terms as `contractflow.contracts` dumps them,
    # so change and termination requests can start from them. Older events lack it.
    terms = fields.Dict(keys=fields.String())
    # Optional (added compatibly): a renegotiated contract names the one it renews, which
    # the renewal service then closes as renewed. Absent for every other contract.
    renews_contract_id = fields.String(validate=validate.Length(min=1))


class ContractCancelledV1(StrictSchema):
    contract_id = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1))
    cancelled_by = fields.String(required=True)
    cancelled_at = fields.AwareDateTime(required=True)


EVENT_TYPES = [
    EventType(
        "contract.signed",
        1,
        "contract",
        ContractSignedV1,
        "Both sides signed; carries term, payment schedule and (optionally) the signed terms.",
    ),
    EventType(
        "contract.cancelled",
        1,
        "contract",
        ContractCancelledV1,
        "Pre-signing preparation was abandoned, with the reason.",
    ),
]
