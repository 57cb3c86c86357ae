"""Schemas for the parties and the provider's qualification data."""

from __future__ import annotations

from marshmallow import fields, validate

from contractflow.contracts.parties import (
    Certification,
    ClientReference,
    Parties,
    Party,
    ProviderQualification,
    TechnicalTeam,
)
from contractflow.contracts.schemas.base import NOT_BLANK, ModelSchema, StrictInteger, nested_list

# 统一社会信用代码: 18 characters, digits and upper-case letters without I, O, S, V, Z.
CREDIT_CODE = validate.Regexp(
    r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$",
    error="must be an 18-character unified social credit code",
)


class PartySchema(ModelSchema):
    model = Party

    name = fields.String(load_default=None, validate=NOT_BLANK)
    credit_code = fields.String(load_default=None, validate=CREDIT_CODE)
    address = fields.String(load_default=None)
    legal_representative = fields.String(load_default=None, validate=NOT_BLANK)
    contact_name = fields.String(load_default=None)
    contact_phone = fields.String(load_default=None)
    contact_email = fields.Email(load_default=None)


class CertificationSchema(ModelSchema):
    model = Certification

    name = fields.String(required=True, validate=NOT_BLANK)
    number = fields.String(load_default=None)
    valid_until = fields.Date(load_default=None)


class ClientReferenceSchema(ModelSchema):
    model = ClientReference

    client = fields.String(required=True, validate=NOT_BLANK)
    project = fields.String(required=True, validate=NOT_BLANK)
    year = StrictInteger(load_default=None, validate=validate.Range(min=1980, max=2200))
    contact = fields.String(load_default=None)


class TechnicalTeamSchema(ModelSchema):
    model = TechnicalTeam

    size = StrictInteger(load_default=None, validate=validate.Range(min=0))
    skills = fields.List(fields.String(validate=NOT_BLANK), load_default=())
    average_tenure_years = StrictInteger(load_default=None, validate=validate.Range(min=0))


class ProviderQualificationSchema(ModelSchema):
    model = ProviderQualification

    business_licence_number = fields.String(load_default=None, validate=NOT_BLANK)
    business_licence_valid_until = fields.Date(load_default=None)
    business_licence_long_term = fields.Boolean(load_default=False)
    certifications = nested_list(CertificationSchema)
    references = nested_list(ClientReferenceSchema)
    technical_team = fields.Nested(TechnicalTeamSchema, load_default=None, allow_none=True)


class PartiesSchema(ModelSchema):
    model = Parties

    user = fields.Nested(PartySchema, load_default=None, allow_none=True)
    provider = fields.Nested(PartySchema, load_default=None, allow_none=True)
    provider_qualification = fields.Nested(
        ProviderQualificationSchema, load_default=None, allow_none=True
    )
