"""Approval requests and decisions, on the `approval` topic keyed by contract id."""

from __future__ import annotations

from marshmallow import fields, validate

from contractflow.events.catalogue import EventType
from contractflow.events.schemas.common import CURRENCY, StrictSchema

APPROVAL_KINDS = ("contract", "change", "termination", "renewal")
RISK_LEVELS = ("low", "medium", "high")


class RequestTexts(StrictSchema):
    """The request's summary and changes written in one reader's language."""

    summary = fields.String(load_default=None, allow_none=True)
    changes = fields.List(fields.String(), load_default=list)


class ApprovalRequestedV1(StrictSchema):
    request_id = fields.String(required=True, validate=validate.Length(min=1))
    contract_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(APPROVAL_KINDS))
    amount = fields.Decimal(required=True, as_string=True, places=2)
    currency = fields.String(required=True, validate=CURRENCY)
    risk = fields.String(required=True, validate=validate.OneOf(RISK_LEVELS))
    requester = fields.String(required=True)
    summary = fields.String(required=True)
    subject_url = fields.String(required=True)
    # Optional (added compatibly): what the approver's email shows besides the summary.
    provider = fields.String(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    changes = fields.List(fields.String(), load_default=list)
    title = fields.String(load_default=None, allow_none=True)  # the contract's title
    # Optional (added compatibly): whose contract it is, when not the requester's (a
    # renegotiation asked for by a renewal manager the directory may not know): the
    # department-manager level is this person's manager, and the outcome mail goes here
    # when the directory does not know the requester.
    owner = fields.String(load_default=None, allow_none=True)
    # Optional (added compatibly): summary and changes written per reader language ("zh",
    # "en"), which the approvers' mails and pages show instead of `summary`/`changes` (the
    # requester's one-language text, kept for every other reader).
    texts = fields.Dict(
        keys=fields.String(validate=validate.OneOf(("zh", "en"))),
        values=fields.Nested(RequestTexts),
        load_default=dict,
    )


class LevelDecision(StrictSchema):
    level = fields.Integer(required=True)
    approver = fields.String(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(("approved", "rejected")))
    comment = fields.String(load_default="")
    decided_at = fields.AwareDateTime(required=True)
    # Optional (added compatibly): the routed role, delegation and the channel used.
    role = fields.String(load_default=None, allow_none=True)
    on_behalf_of = fields.String(load_default=None, allow_none=True)
    channel = fields.String(load_default=None, allow_none=True)


class ApprovalDecidedV1(StrictSchema):
    request_id = fields.String(required=True)
    contract_id = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(("approved", "rejected")))
    decisions = fields.List(fields.Nested(LevelDecision), required=True)
    decided_at = fields.AwareDateTime(required=True)


EVENT_TYPES = [
    EventType(
        "approval.requested",
        1,
        "approval",
        ApprovalRequestedV1,
        "A service asks for an approval of a contract, change, termination or renewal.",
    ),
    EventType(
        "approval.decided",
        1,
        "approval",
        ApprovalDecidedV1,
        "The approval service's final answer with each level's decision.",
    ),
]
