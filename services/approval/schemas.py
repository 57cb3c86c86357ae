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
