"""Marshmallow schemas that load and dump contract terms (errors keyed by field path)."""

from contractflow.contracts.schemas.base import MoneySchema, flatten_errors
from contractflow.contracts.schemas.fees import FeesSchema, PriceListSchema
from contractflow.contracts.schemas.terms import (
    ContractTermsSchema,
    TermsJson,
    TermsValidationError,
    dump_contract_terms,
    load_contract_terms,
)

__all__ = [
    "ContractTermsSchema",
    "FeesSchema",
    "MoneySchema",
    "PriceListSchema",
    "TermsJson",
    "TermsValidationError",
    "dump_contract_terms",
    "flatten_errors",
    "load_contract_terms",
]
