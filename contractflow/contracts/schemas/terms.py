"""Load a contract draft from the JSON a client sends, and dump it back to JSON."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields

from contractflow.contracts.schemas.base import (
    NOT_BLANK,
    ModelSchema,
    TimezoneName,
    flatten_errors,
    validate_timezone,
)
from contractflow.contracts.schemas.fees import FeesSchema
from contractflow.contracts.schemas.legal import (
    BreachLiabilitySchema,
    ConfidentialitySchema,
    DisputeResolutionSchema,
    IPOwnershipSchema,
    LicenceSchema,
    RightsAndObligationsSchema,
)
from contractflow.contracts.schemas.parties import PartiesSchema
from contractflow.contracts.schemas.service import (
    SecurityMeasuresSchema,
    ServiceContentSchema,
    ServiceStandardsSchema,
    ServiceTermSchema,
    maintenance_schedule_field,
)
from contractflow.contracts.terms import DEFAULT_TIMEZONE, ContractTerms
from contractflow.schema_errors import name_allowed_fields


def _clause(schema: type[ModelSchema]) -> fields.Nested:
    # Every clause may be absent while drafting; completeness is checked separately.
    return fields.Nested(schema, load_default=None, allow_none=True)


class ContractTermsSchema(ModelSchema):
    model = ContractTerms

    title = fields.String(load_default=None, validate=NOT_BLANK)
    timezone = TimezoneName(load_default=DEFAULT_TIMEZONE)
    parties = _clause(PartiesSchema)
    service_content = _clause(ServiceContentSchema)
    service_term = _clause(ServiceTermSchema)
    fees = _clause(FeesSchema)
    rights_and_obligations = _clause(RightsAndObligationsSchema)
    breach_liability = _clause(BreachLiabilitySchema)
    confidentiality = _clause(ConfidentialitySchema)
    service_standards = _clause(ServiceStandardsSchema)
    maintenance_schedule = maintenance_schedule_field()
    security_measures = _clause(SecurityMeasuresSchema)
    licence = _clause(LicenceSchema)
    ip_ownership = _clause(IPOwnershipSchema)
    dispute_resolution = _clause(DisputeResolutionSchema)


class TermsJson(fields.Nested):
    """Contract terms in a request or response body: documented (OpenAPI) as the whole
    ContractTerms schema, every clause and field, but passed through as the JSON object —
    `load_contract_terms` validates it, so its errors name dotted clause paths."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ContractTermsSchema, **kwargs)

    def _deserialize(
        self,
        value: Any,
        attr: str | None,
        data: Mapping[str, Any] | None,
        partial: Any = None,
        **kwargs: Any,
    ) -> Any:
        if not isinstance(value, Mapping):
            raise self.make_error("type", input=value, type=type(value).__name__)
        return dict(value)

    # marshmallow's Nested itself renames Field's first parameter; keep Nested's signature.
    def _serialize(self, nested_obj: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return nested_obj


class TermsValidationError(ValueError):
    """The draft's JSON is invalid; `errors` maps dotted field paths to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        where = "; ".join(f"{path}: {' '.join(messages)}" for path, messages in errors.items())
        super().__init__(f"invalid contract terms: {where}")


@functools.cache
def _terms_schema() -> ContractTermsSchema:
    """One instance for every load and dump: a marshmallow 4 schema keeps no state of a
    call, and building one (deep copies of every field, each nested schema) cost more CPU
    than the load itself (5.7 ms a load with a new one, 2.3 ms reused; issue 13 bench)."""
    return ContractTermsSchema()


def load_contract_terms(
    payload: Mapping[str, Any], *, default_timezone: str = DEFAULT_TIMEZONE
) -> ContractTerms:
    """Validate and load a (possibly partial) draft.

    `default_timezone` applies when the payload names no `timezone`; it is a parameter,
    not a global, so one process can serve contracts in several zones.
    """
    validate_timezone(default_timezone)
    if not isinstance(payload, Mapping):
        raise TermsValidationError({"_schema": ["the contract terms must be a JSON object"]})
    schema = _terms_schema()
    try:
        terms: ContractTerms = schema.load({"timezone": default_timezone, **payload})
    except ValidationError as error:
        named = name_allowed_fields(schema, error.messages)
        raise TermsValidationError(flatten_errors(named)) from None
    return terms


def dump_contract_terms(terms: ContractTerms) -> dict[str, Any]:
    """The JSON shape `load_contract_terms` accepts; decimals are strings, dates ISO 8601."""
    dumped: dict[str, Any] = _terms_schema().dump(terms)
    return dumped
