"""The shared contract domain: terms, fees and signing checks (pure Python + marshmallow).

Used by the negotiation service (drafts) and the approval service (change requests); it
must never import Flask, SQLAlchemy or Kafka. The names below are the public API.
"""

from contractflow.contracts.checks import (
    BudgetAssessment,
    CheckResult,
    LicenceGrant,
    Problem,
    check_budget,
    check_clause_completeness,
    check_licence_conflicts,
    check_provider_qualification,
)
from contractflow.contracts.fees import (
    FeeChange,
    FeeQuote,
    IncompleteTermsError,
    calculate_fees,
    recalculate_for_change,
)
from contractflow.contracts.money import Money
from contractflow.contracts.pricing import DEFAULT_PRICE_LIST, PriceList
from contractflow.contracts.schemas import (
    TermsValidationError,
    dump_contract_terms,
    load_contract_terms,
)
from contractflow.contracts.terms import ContractTerms

__all__ = [
    "DEFAULT_PRICE_LIST",
    "BudgetAssessment",
    "CheckResult",
    "ContractTerms",
    "FeeChange",
    "FeeQuote",
    "IncompleteTermsError",
    "LicenceGrant",
    "Money",
    "PriceList",
    "Problem",
    "TermsValidationError",
    "calculate_fees",
    "check_budget",
    "check_clause_completeness",
    "check_licence_conflicts",
    "check_provider_qualification",
    "dump_contract_terms",
    "load_contract_terms",
    "recalculate_for_change",
]
