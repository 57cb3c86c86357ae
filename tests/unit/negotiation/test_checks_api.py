"""The signing checks on their own over HTTP: answers match contractflow.contracts."""

from __future__ import annotations

import json
from decimal import Decimal

from contractflow.contracts import (
    Money,
    calculate_fees,
    check_budget,
    check_clause_completeness,
    load_contract_terms,
)
from contractflow.contracts.samples import sample_terms
from tests.conftest import both_databases
from tests.unit.negotiation.support import Negotiation, terms_json

pytestmark = both_databases


def as_json(value: dict) -> dict:
    return json.loads(json.dumps(value))


def test_fees_match_the_calculator(negotiation: Negotiation):
    response = negotiation.call("POST", "/checks/fees", "finance", json={"terms": terms_json()})
    assert response.status_code == 200, response.json
    assert response.json["quote"] == as_json(calculate_fees(sample_terms()).to_dict())
    assert response.json["quote"]["total"] == {"amount": "170720.00", "currency": "CNY"}
    assert response.json["budget"] is None


def test_fees_for_a_monthly_contract_with_a_budget(negotiation: Negotiation):
    terms = terms_json()
    terms["fees"]["billing_cycle"] = "monthly"
    expected = calculate_fees(load_contract_terms(terms))
    response = negotiation.call(
        "POST",
        "/checks/fees",
        json={"terms": terms, "budget": {"amount": "150000.00"}},
    )
    assert response.status_code == 200, response.json
    quote = response.json["quote"]
    assert quote["total"]["amount"] == str(expected.total.amount)
    assert len(quote["schedule"]) == len(expected.schedule)
    assert [i["due_date"] for i in quote["schedule"]] == [
        i.due_date.isoformat() for i in expected.schedule
    ]
    budget = check_budget(expected.total, Money(Decimal("150000.00"))).to_dict()
    assert response.json["budget"] == as_json(budget)
    assert response.json["budget"]["status"] == "over_budget"


def test_fees_that_cannot_be_priced_name_the_missing_fields(negotiation: Negotiation):
    terms = terms_json()
    del terms["service_term"]
    response = negotiation.call("POST", "/checks/fees", json={"terms": terms})
    assert response.status_code == 422
    assert "terms.service_term" in response.json["errors"]


def test_clause_check_lists_what_is_missing_by_clause(negotiation: Negotiation):
    terms = terms_json()
    del terms["breach_liability"]
    terms["service_term"]["notice_period_days"] = None
    response = negotiation.call("POST", "/checks/clauses", "legal", json={"terms": terms})
    assert response.status_code == 200
    assert response.json == as_json(check_clause_completeness(load_contract_terms(terms)).to_dict())
    assert response.json["ok"] is False
    fields = {p["field"] for p in response.json["problems"]}
    assert {"breach_liability", "service_term.notice_period_days"} <= fields


def test_qualification_check_flags_an_expired_business_licence(negotiation: Negotiation):
    terms = terms_json()
    terms["parties"]["provider_qualification"]["business_licence_valid_until"] = "2024-06-01"
    response = negotiation.call("POST", "/checks/qualification", json={"terms": terms})
    assert response.status_code == 200
    assert response.json["ok"] is False
    assert "business_licence_expired" in [p["code"] for p in response.json["problems"]]
    fine = negotiation.call("POST", "/checks/qualification", json={"terms": terms_json()})
    assert fine.json["ok"] is True


def test_checks_store_nothing_and_reject_bad_bodies(negotiation: Negotiation):
    missing = negotiation.call("POST", "/checks/clauses", json={})
    assert missing.status_code == 422 and "terms" in missing.json["errors"]
    bad = negotiation.call(
        "POST", "/checks/clauses", json={"terms": {"licence": {"type": "forever"}}}
    )
    assert bad.status_code == 422 and "terms.licence.type" in bad.json["errors"]
    assert negotiation.call("GET", "/contracts", "viewer").json["contracts"] == []
