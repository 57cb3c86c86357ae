"""Schemas for service content and term, service standards, maintenance and security."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from contractflow.contracts.operations import (
    DEFAULT_MAINTENANCE_SCHEDULE,
    Frequency,
    MaintenanceTask,
    SecurityMeasure,
    SecurityMeasures,
    ServiceStandards,
    Severity,
    SeverityTarget,
)
from contractflow.contracts.schemas.base import (
    NOT_BLANK,
    ModelSchema,
    StrictDecimal,
    StrictInteger,
    UniqueList,
    enum_list,
    nested_list,
    no_duplicates,
)
from contractflow.contracts.service import ServiceContent, ServiceItem, ServiceTerm


class ServiceContentSchema(ModelSchema):
    model = ServiceContent

    items = enum_list(ServiceItem)
    functional_modules = UniqueList(fields.String(validate=NOT_BLANK))
    notes = fields.String(load_default=None)


class ServiceTermSchema(ModelSchema):
    model = ServiceTerm

    start_date = fields.Date(load_default=None)
    end_date = fields.Date(load_default=None)
    auto_renew = fields.Boolean(load_default=None, allow_none=True)
    notice_period_days = StrictInteger(load_default=None, validate=validate.Range(min=0))
    renewal_conditions = fields.String(load_default=None)

    @validates_schema
    def end_not_before_start(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            raise ValidationError(f"must not be before start_date {start}", "end_date")


class SeverityTargetSchema(ModelSchema):
    model = SeverityTarget

    severity = fields.Enum(Severity, by_value=True, required=True)
    response_minutes = StrictInteger(required=True, validate=validate.Range(min=1))
    resolution_hours = StrictInteger(required=True, validate=validate.Range(min=1))

    @validates_schema
    def resolution_after_response(self, data: dict[str, Any], **_: Any) -> None:
        response, resolution = data.get("response_minutes"), data.get("resolution_hours")
        if response and resolution and resolution * 60 < response:
            raise ValidationError("must not be shorter than the response time", "resolution_hours")


class ServiceStandardsSchema(ModelSchema):
    model = ServiceStandards

    severity_targets = nested_list(SeverityTargetSchema)
    availability_target_percent = StrictDecimal(
        load_default=None,
        max_places=3,
        validate=validate.Range(min=0, max=100, min_inclusive=False),
    )
    quality_standards = fields.String(load_default=None)

    @validates_schema
    def one_target_per_severity(self, data: dict[str, Any], **_: Any) -> None:
        try:
            no_duplicates([target.severity for target in data.get("severity_targets", ())])
        except ValidationError as error:
            raise ValidationError(error.messages, "severity_targets") from None


class MaintenanceTaskSchema(ModelSchema):
    model = MaintenanceTask

    item = fields.String(required=True, validate=NOT_BLANK)
    content = fields.String(required=True, validate=NOT_BLANK)
    frequency = fields.Enum(Frequency, by_value=True, required=True)


def maintenance_schedule_field() -> fields.List:
    """A draft that names no schedule gets the seed's table (weekly, monthly, quarterly)."""
    return fields.List(
        fields.Nested(MaintenanceTaskSchema), load_default=DEFAULT_MAINTENANCE_SCHEDULE
    )


class SecurityMeasuresSchema(ModelSchema):
    model = SecurityMeasures

    measures = enum_list(SecurityMeasure)
    notes = fields.String(load_default=None)
