"""What the ERP tells the services, on the `erp` topic: employee master data (keyed by
employee id), provider master data (keyed by vendor id), purchase orders and payments
(keyed by contract id)."""

from __future__ import annotations

from marshmallow import fields, validate

from contractflow.events.catalogue import EventType
from contractflow.events.schemas.common import Money, StrictSchema


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


class Qualification(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1))
    number = fields.String(load_default=None, allow_none=True)
    valid_until = fields.Date(load_default=None, allow_none=True)


class VendorUpdatedV1(StrictSchema):
    vendor_id = fields.String(required=True, validate=validate.Length(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1))
    business_licence = fields.Nested(Qualification, required=True)
    certifications = fields.List(fields.Nested(Qualification), load_default=list)
    updated_at = fields.AwareDateTime(required=True)


class PurchaseOrderCreatedV1(StrictSchema):
    po_number = fields.String(required=True, validate=validate.Length(min=1))
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    amount = fields.Nested(Money, required=True)
    created_at = fields.AwareDateTime(required=True)


class PaymentRecordedV1(StrictSchema):
    payment_id = fields.String(required=True, validate=validate.Length(min=1))
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    due_date = fields.Date(required=True)  # the milestone of the payment schedule it pays
    amount = fields.Nested(Money, required=True)
    paid_at = fields.AwareDateTime(required=True)
    po_number = fields.String(load_default=None, allow_none=True)


EVENT_TYPES = [
    EventType(
        "erp.employee.updated",
        1,
        "erp",
        EmployeeUpdatedV1,
        "An employee's master data changed: email, language, manager, roles, delegation.",
    ),
    EventType(
        "erp.vendor.updated",
        1,
        "erp",
        VendorUpdatedV1,
        "A provider's master data changed: name, business licence and certifications.",
    ),
    EventType(
        "erp.purchase_order.created",
        1,
        "erp",
        PurchaseOrderCreatedV1,
        "The ERP opened a purchase order for a contract.",
    ),
    EventType(
        "erp.payment.recorded",
        1,
        "erp",
        PaymentRecordedV1,
        "The ERP paid (part of) a milestone of a contract's payment schedule.",
    ),
]
