"""Request bodies of approval's JSON API, and the approval decision form."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contractflow.events.schemas.erp import Delegation

LANGUAGES = ("zh", "en")


class PersonBody(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True)
    language = fields.String(load_default="zh", validate=validate.OneOf(LANGUAGES))
    department = fields.String(load_default=None, allow_none=True)
    manager_id = fields.String(load_default=None, allow_none=True)
    roles = fields.List(fields.String(), load_default=list)
    active = fields.Boolean(load_default=True)
    delegation = fields.Nested(Delegation, load_default=None, allow_none=True)


class DecisionBody(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("approved", "rejected")))
    comment = fields.String(load_default="", validate=validate.Length(max=4000))


class ApprovalDecisionForm(DecisionBody):
    """The `approval_decision` user task's form (what completes the workflow task)."""


class ReassignTaskBody(Schema):
    person_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


# -- responses (documented in /openapi.json) ---------------------------------------------
class DelegationOut(Schema):
    delegate_id = fields.String()
    valid_from = fields.String(allow_none=True)
    valid_until = fields.String(allow_none=True)


class PersonOut(Schema):
    person_id = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    language = fields.String()
    department = fields.String(allow_none=True)
    manager_id = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    active = fields.Boolean()
    delegation = fields.Nested(DelegationOut, allow_none=True)
    updated_at = fields.String()


class PeopleOut(Schema):
    people = fields.List(fields.Nested(PersonOut))


class ApprovalTaskOut(Schema):
    task_id = fields.String()
    level = fields.Integer()
    role = fields.String()
    person_id = fields.String()
    on_behalf_of = fields.String(allow_none=True)
    escalated_from = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["open", "decided", "superseded", "withdrawn"]})
    decision = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    decided_at = fields.String(allow_none=True)
    decided_via = fields.String(allow_none=True)
    reminders_sent = fields.Integer()


class ApprovalRequestOut(Schema):
    request_id = fields.String()
    contract_id = fields.String()
    kind = fields.String()
    amount = fields.String()
    currency = fields.String()
    risk = fields.String()
    status = fields.String(metadata={"enum": ["pending", "approved", "rejected", "withdrawn"]})
    instance_id = fields.String(allow_none=True)
    tasks = fields.List(fields.Nested(ApprovalTaskOut))


class AuditEntryOut(Schema):
    action = fields.String()
    detail = fields.String()
    person_id = fields.String(allow_none=True)
    channel = fields.String()
    method = fields.String()
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    at = fields.String()


class AuditOut(Schema):
    audit = fields.List(fields.Nested(AuditEntryOut))


class RequestStartedOut(Schema):
    request_id = fields.String()
    instance_id = fields.String()


class LinkQuery(Schema):
    token = fields.String(required=True, metadata={"description": "the signed token of the email"})
