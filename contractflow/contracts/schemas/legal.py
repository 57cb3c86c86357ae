"""Schemas for the legal clauses and the software licence."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from contractflow.contracts.legal import (
    BreachLiability,
    Confidentiality,
    ConfidentialityDuty,
    ConfidentialScope,
    CostBearer,
    DisputeResolution,
    EndOfTermHandling,
    IPOwnership,
    Owner,
    RightsAndObligations,
)
from contractflow.contracts.licence import (
    DataHandling,
    DeviceType,
    Licence,
    LicenceRestriction,
    LicenceTerminationEvent,
    LicenceType,
)
from contractflow.contracts.schemas.base import (
    NOT_BLANK,
    ModelSchema,
    MoneySchema,
    StrictInteger,
    UniqueList,
    enum_list,
)

TERRITORY_CODE = validate.Regexp(
    r"^(WORLD|[A-Z]{2}(-[A-Z0-9]{1,3})?)$",
    error='must be "WORLD", an ISO 3166-1 country such as "CN" or a subdivision such as "CN-SH"',
)


def clause_lines() -> fields.List:
    return fields.List(fields.String(validate=NOT_BLANK), load_default=())


class RightsAndObligationsSchema(ModelSchema):
    model = RightsAndObligations

    user_rights = clause_lines()
    user_obligations = clause_lines()
    provider_rights = clause_lines()
    provider_obligations = clause_lines()


class BreachLiabilitySchema(ModelSchema):
    model = BreachLiability

    user_liabilities = clause_lines()
    provider_liabilities = clause_lines()
    termination_compensation = fields.String(load_default=None)
    liability_cap = fields.Nested(MoneySchema, load_default=None, allow_none=True)


class ConfidentialitySchema(ModelSchema):
    model = Confidentiality

    scope = enum_list(ConfidentialScope)
    duties = enum_list(ConfidentialityDuty)
    years_after_end = StrictInteger(load_default=None, validate=validate.Range(min=0, max=100))
    handling_at_end = fields.Enum(EndOfTermHandling, by_value=True, load_default=None)
    liabilities = clause_lines()


class IPOwnershipSchema(ModelSchema):
    model = IPOwnership

    software = fields.Enum(Owner, by_value=True, load_default=None)
    customisations = fields.Enum(Owner, by_value=True, load_default=None)
    user_data = fields.Enum(Owner, by_value=True, load_default=None)
    notes = fields.String(load_default=None)


class DisputeResolutionSchema(ModelSchema):
    model = DisputeResolution

    negotiation_days = StrictInteger(load_default=None, validate=validate.Range(min=0))
    arbitration_institution = fields.String(load_default=None, validate=NOT_BLANK)
    arbitration_rules = fields.String(load_default=None, validate=NOT_BLANK)
    court = fields.String(load_default=None, validate=NOT_BLANK)
    governing_law = fields.String(load_default=None, validate=NOT_BLANK)
    cost_bearer = fields.Enum(CostBearer, by_value=True, load_default=None)


class LicenceSchema(ModelSchema):
    model = Licence

    software_id = fields.String(load_default=None, validate=NOT_BLANK)
    software_name = fields.String(load_default=None)
    type = fields.Enum(LicenceType, by_value=True, load_default=None)
    territory = UniqueList(fields.String(validate=TERRITORY_CODE))
    user_count = StrictInteger(load_default=None, validate=validate.Range(min=1))
    device_types = enum_list(DeviceType)
    start_date = fields.Date(load_default=None)
    end_date = fields.Date(load_default=None)
    extension_procedure = fields.String(load_default=None)
    restrictions = enum_list(LicenceRestriction)
    termination_events = enum_list(LicenceTerminationEvent)
    data_handling_on_termination = fields.Enum(DataHandling, by_value=True, load_default=None)

    @validates_schema
    def end_not_before_start(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            raise ValidationError(f"must not be before start_date {start}", "end_date")
