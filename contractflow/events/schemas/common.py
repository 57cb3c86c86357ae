"""Field shapes shared by event schemas: money as a decimal string with its currency."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="must be an ISO 4217 code such as CNY")


class StrictSchema(Schema):
    """Unknown fields are an error: a typo in a producer must not pass silently."""

    class Meta:
        unknown = RAISE


class Money(StrictSchema):
    amount = fields.Decimal(required=True, as_string=True, places=2)
    currency = fields.String(required=True, validate=CURRENCY)
