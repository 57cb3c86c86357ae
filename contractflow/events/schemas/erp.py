"""Employee master data from the ERP, on the `erp` topic keyed by employee id."""

from __future__ import annotations

from marshmallow import fields, validate

from contractflow.events.catalogue import EventType
from contractflow.events.schemas.common import StrictSchema


class Delegation(StrictSchema):
    delegate_id = fields.String(required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)


class EmployeeUpdatedV1(StrictSchema):
    employee_id = fields.String(required=True, validate=validate.Length(min=1))
    name = fields.String(required=True)
    email = fields.Email(load_default=None, allow_none=True)
    language = fields.String(load_default="zh", validate=validate.OneOf(("zh", "en")))
    department = fields.String(load_default=None, allow_none=True)
    manager_id = fields.String(load_default=None, allow_none=True)
    roles = fields.List(fields.String(), load_default=list)
    active = fields.Boolean(load_default=True)
    delegation = fields.Nested(Delegation, load_default=None, allow_none=True)


EVENT_TYPES = [
    EventType(
        "erp.employee.updated",
        1,
        "erp",
        EmployeeUpdatedV1,
        "An employee's master data changed: email, language, manager, roles, delegation.",
    ),
]
