"""Schemas for the fees clause and for a price list of agreed rates."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from contractflow.contracts.fee_terms import (
    AdhocWork,
    BackupFrequency,
    BackupPlan,
    BillingCycle,
    Complexity,
    Fees,
    PaymentMilestone,
    TrainingKind,
    TrainingSession,
    TravelBorneBy,
    TravelEstimate,
    UpgradeDifficulty,
    UpgradeOrder,
    UsageScale,
    WorkUrgency,
)
from contractflow.contracts.pricing import PriceList, RateTable
from contractflow.contracts.schemas.base import (
    CURRENCY_CODE,
    NOT_BLANK,
    ModelSchema,
    MoneySchema,
    StrictDecimal,
    StrictInteger,
    nested_list,
)
from contractflow.contracts.service import SupportChannel

NON_NEGATIVE = validate.Range(min=0)
POSITIVE = validate.Range(min=0, min_inclusive=False)


def rate(**kwargs: Any) -> StrictDecimal:
    # Rates may be finer than a cent (0.005 per GB); amounts are rounded, rates are not.
    return StrictDecimal(max_places=4, validate=NON_NEGATIVE, **kwargs)


class RateTableField(fields.Dict):
    """A rate for each member of an enum, all of them and no other key (as published)."""

    def __init__(self, keys: type[StrEnum], **kwargs: Any) -> None:
        self.expected = sorted(member.value for member in keys)
        super().__init__(
            keys=fields.String(validate=validate.OneOf(self.expected)),
            values=rate(),
            validate=self.complete,
            **kwargs,
        )

    def complete(self, table: dict[str, Decimal]) -> None:
        if set(table) != set(self.expected):
            raise ValidationError(f"must give a rate for exactly {self.expected}")

    def openapi_schema(self, generated: dict[str, Any]) -> dict[str, Any]:
        assert isinstance(self.value_field, StrictDecimal)
        each = self.value_field.json_schema()
        return {
            "type": "object",
            "properties": dict.fromkeys(self.expected, each),
            "required": self.expected,
            "additionalProperties": False,
        }


def rate_table(keys: type[StrEnum]) -> RateTableField:
    return RateTableField(keys)


class PriceListSchema(ModelSchema):
    """Fields left out keep the default price list's rate (see `pricing.py`)."""

    model = PriceList

    currency = fields.String(validate=CURRENCY_CODE)
    maintenance_platform_monthly = rate()
    maintenance_per_module_monthly = rate()
    complexity_factor = rate_table(Complexity)
    upgrade_price = rate_table(UpgradeDifficulty)
    backup_per_gb_monthly = rate_table(BackupFrequency)
    support_monthly = rate_table(SupportChannel)
    named_user_monthly = rate()
    concurrent_user_monthly = rate()
    storage_gb_monthly = rate()
    yearly_discount_percent = StrictDecimal(max_places=2, validate=validate.Range(min=0, max=100))
    hourly_rate = rate_table(WorkUrgency)
    licence_per_user = rate()
    training_session_price = rate_table(TrainingKind)
    training_per_attendee = rate()
    travel_per_visit = rate()
    installation_platform = rate()
    installation_per_module = rate()
    debugging_platform = rate()
    debugging_per_module = rate()

    @post_load
    def make_model(self, data: dict[str, Any], **_: Any) -> PriceList:
        tables = {key: RateTable(v) for key, v in data.items() if isinstance(v, dict)}
        return PriceList(**{**data, **tables})


class UpgradeOrderSchema(ModelSchema):
    model = UpgradeOrder

    description = fields.String(required=True, validate=NOT_BLANK)
    difficulty = fields.Enum(UpgradeDifficulty, by_value=True, required=True)
    count = StrictInteger(load_default=1, validate=validate.Range(min=1))
    due_date = fields.Date(load_default=None)


class BackupPlanSchema(ModelSchema):
    model = BackupPlan

    volume_gb = StrictDecimal(required=True, max_places=3, validate=POSITIVE)
    frequency = fields.Enum(BackupFrequency, by_value=True, required=True)


class UsageScaleSchema(ModelSchema):
    model = UsageScale

    named_users = StrictInteger(load_default=0, validate=NON_NEGATIVE)
    concurrent_users = StrictInteger(load_default=0, validate=NON_NEGATIVE)
    storage_gb = StrictDecimal(load_default=Decimal(0), max_places=3, validate=NON_NEGATIVE)


class AdhocWorkSchema(ModelSchema):
    model = AdhocWork

    description = fields.String(required=True, validate=NOT_BLANK)
    estimated_hours = StrictDecimal(required=True, max_places=2, validate=POSITIVE)
    urgency = fields.Enum(WorkUrgency, by_value=True, load_default=WorkUrgency.NORMAL)
    due_date = fields.Date(load_default=None)


class TrainingSessionSchema(ModelSchema):
    model = TrainingSession

    kind = fields.Enum(TrainingKind, by_value=True, required=True)
    attendees = StrictInteger(required=True, validate=NON_NEGATIVE)
    session_date = fields.Date(load_default=None)


class TravelEstimateSchema(ModelSchema):
    model = TravelEstimate

    visits = StrictInteger(required=True, validate=NON_NEGATIVE)
    borne_by = fields.Enum(TravelBorneBy, by_value=True, load_default=TravelBorneBy.USER)
    due_date = fields.Date(load_default=None)


class PaymentMilestoneSchema(ModelSchema):
    model = PaymentMilestone

    name = fields.String(required=True, validate=NOT_BLANK)
    due_date = fields.Date(required=True)
    percent = StrictDecimal(required=True, max_places=2, validate=validate.Range(min=0, max=100))


class FeesSchema(ModelSchema):
    model = Fees

    currency = fields.String(load_default="CNY", validate=CURRENCY_CODE)
    billing_cycle = fields.Enum(BillingCycle, by_value=True, load_default=None)
    payment_method = fields.String(load_default=None, validate=NOT_BLANK)
    system_complexity = fields.Enum(Complexity, by_value=True, load_default=None)
    fixed_monthly_fee = fields.Nested(MoneySchema, load_default=None, allow_none=True)
    upgrades = nested_list(UpgradeOrderSchema)
    backup = fields.Nested(BackupPlanSchema, load_default=None, allow_none=True)
    usage = fields.Nested(UsageScaleSchema, load_default=None, allow_none=True)
    adhoc_work = nested_list(AdhocWorkSchema)
    training = nested_list(TrainingSessionSchema)
    travel = fields.Nested(TravelEstimateSchema, load_default=None, allow_none=True)
    buys_licence = fields.Boolean(load_default=False)
    milestones = nested_list(PaymentMilestoneSchema)
    agreed_rates = fields.Nested(PriceListSchema, load_default=None, allow_none=True)

    @validates_schema
    def one_currency(self, data: dict[str, Any], **_: Any) -> None:
        currency = data.get("currency", "CNY")
        fixed, rates = data.get("fixed_monthly_fee"), data.get("agreed_rates")
        if fixed is not None and fixed.currency != currency:
            raise ValidationError(f"must be in the fees currency {currency}", "fixed_monthly_fee")
        if rates is not None and rates.currency != currency:
            raise ValidationError(f"must be in the fees currency {currency}", "agreed_rates")

    @validates_schema
    def milestones_share_everything(self, data: dict[str, Any], **_: Any) -> None:
        milestones = data.get("milestones") or ()
        shares = sum((m.percent for m in milestones), Decimal(0))
        if milestones and shares != 100:
            raise ValidationError(f"percentages must add up to 100, not {shares}", "milestones")
