"""Checks a draft must pass before approval; each returns a JSON-ready `CheckResult`."""

from contractflow.contracts.checks.budget import BudgetAssessment, BudgetStatus, check_budget
from contractflow.contracts.checks.completeness import REQUIRED_CLAUSES, check_clause_completeness
from contractflow.contracts.checks.licence_conflicts import (
    LicenceGrant,
    check_licence_conflicts,
    grant_from_terms,
    grants_overlap,
)
from contractflow.contracts.checks.qualification import check_provider_qualification
from contractflow.contracts.checks.result import CheckResult, Problem, ProblemSeverity

__all__ = [
    "REQUIRED_CLAUSES",
    "BudgetAssessment",
    "BudgetStatus",
    "CheckResult",
    "LicenceGrant",
    "Problem",
    "ProblemSeverity",
    "check_budget",
    "check_clause_completeness",
    "check_licence_conflicts",
    "check_provider_qualification",
    "grant_from_terms",
    "grants_overlap",
]
