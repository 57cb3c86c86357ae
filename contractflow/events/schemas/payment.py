"""A contract's payment schedule as it falls due, on the `contract` topic keyed by contract id.

Published by the renewal service, which keeps the running contract's schedule (from
`contract.signed`, replaced by `contract.amended`) and what the ERP says it paid
(`erp.payment.recorded`). The ERP pays on `payment.due`; `payment.overdue` says a milestone
passed its date without (full) payment and a task is open for the contract's owner.
"""

from __future__ import annotations

from marshmallow import fields, validate

from contractflow.events.catalogue import EventType
from contractflow.events.schemas.common import Money, StrictSchema


class PaymentDueV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    due_date = fields.Date(required=True)  # the milestone: what `erp.payment.recorded` names
    amount = fields.Nested(Money, required=True)  # the milestone's amount
    outstanding = fields.Nested(Money, required=True)  # what is not paid yet
    description = fields.String(required=True)
    po_number = fields.String(required=True, allow_none=True)  # the linked purchase order


class PaymentOverdueV1(StrictSchema):
    contract_id = fields.String(required=True, validate=validate.Length(min=1))
    due_date = fields.Date(required=True)
    amount = fields.Nested(Money, required=True)
    paid = fields.Nested(Money, required=True)
    outstanding = fields.Nested(Money, required=True)
    description = fields.String(required=True)
    owner = fields.String(required=True, allow_none=True)
    task_id = fields.String(required=True, allow_none=True)


EVENT_TYPES = [
    EventType(
        "payment.due",
        1,
        "contract",
        PaymentDueV1,
        "A milestone of the payment schedule is due today (once per milestone and date).",
    ),
    EventType(
        "payment.overdue",
        1,
        "contract",
        PaymentOverdueV1,
        "A milestone passed its due date without full payment; the owner has a task.",
    ),
]
