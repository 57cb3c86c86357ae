"""The signing checks on their own: POST terms, get the answer; nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy.orm import Session, sessionmaker

from contractflow.auth import require_roles
from contractflow.contracts import (
    ContractTerms,
    IncompleteTermsError,
    TermsValidationError,
    calculate_fees,
    check_clause_completeness,
    check_provider_qualification,
    load_contract_terms,
)
from contractflow.web import ProblemError, api_doc, load_json
from services.negotiation import schemas as s
from services.negotiation.checks import assess_budget, licence_conflicts
from services.negotiation.web_errors import terms_problem, work

ROLES = ("contract-manager", "legal", "technical", "finance", "contract-viewer", "admin")
TAGS = ("checks",)


def make_checks_blueprint(
    sessions: sessionmaker[Session], *, timezone: str, clock: Callable[[], Any]
) -> Blueprint:
    api = Blueprint("negotiation_checks", __name__, url_prefix="/checks")
    # Built once (see api.py): the terms' nested schemas are not built again per request.
    terms_body, fee_body, licence_body = s.TermsBody(), s.FeeCheckBody(), s.LicenceCheckBody()

    def terms_of(body: dict[str, Any]) -> ContractTerms:
        try:
            return load_contract_terms(body["terms"], default_timezone=timezone)
        except TermsValidationError as error:
            raise terms_problem(error) from None

    @api.post("/clauses")
    @require_roles(*ROLES)
    @api_doc(
        "Clause completeness: what each required clause still lacks",
        body=s.TermsBody,
        response=s.CheckResultOut,
        tags=TAGS,
    )
    def clauses() -> Any:
        terms = terms_of(load_json(terms_body))
        return jsonify(check_clause_completeness(terms).to_dict())

    @api.post("/qualification")
    @require_roles(*ROLES)
    @api_doc(
        "Provider qualification: business licence, certifications, references, team",
        body=s.TermsBody,
        response=s.CheckResultOut,
        tags=TAGS,
    )
    def qualification() -> Any:
        terms = terms_of(load_json(terms_body))
        return jsonify(check_provider_qualification(terms, now=clock()).to_dict())

    @api.post("/fees")
    @require_roles(*ROLES)
    @api_doc(
        "Fee quote: itemised lines, total and payment schedule; optionally against a budget",
        body=s.FeeCheckBody,
        response=s.FeeQuoteOut,
        tags=TAGS,
    )
    def fees() -> Any:
        body = load_json(fee_body)
        terms = terms_of(body)
        try:
            quote = calculate_fees(terms)
        except IncompleteTermsError as incomplete:
            raise ProblemError(
                422,
                "Terms cannot be priced yet",
                "the fees depend on fields not filled in",
                errors={
                    f"terms.{path}": ["is needed to price the contract"]
                    for path in incomplete.missing
                },
            ) from None
        except ValueError as error:
            raise ProblemError(422, "Terms cannot be priced", str(error)) from None
        budget = body["budget"]
        return jsonify(
            quote=quote.to_dict(),
            budget=assess_budget(quote, budget, body["finance_accepted"]) if budget else None,
        )

    @api.post("/licence-conflicts")
    @require_roles(*ROLES)
    @api_doc(
        "Licence conflicts with this service's signed and in-progress contracts",
        body=s.LicenceCheckBody,
        response=s.CheckResultOut,
        tags=TAGS,
    )
    def licence() -> Any:
        body = load_json(licence_body)
        terms = terms_of(body)
        with work(sessions) as session:
            return jsonify(licence_conflicts(session, terms, body["contract_id"]).to_dict())

    return api
