"""Unknown fields are refused naming what is allowed (bodies, terms, task forms); the
terms schema is documented in /openapi.json instead of an opaque object."""

from __future__ import annotations

from tests.unit.negotiation.support import Negotiation, terms_json


def test_unknown_fields_name_the_allowed_ones(negotiation: Negotiation):
    body = negotiation.call("POST", "/contracts", json={"terms": {}, "term": {}})
    assert body.status_code == 422
    assert "terms" in body.json["errors"]["term"][0]

    terms = terms_json()
    terms["fee"] = {}
    terms["parties"]["provider"]["nickname"] = "云维"
    clauses = negotiation.call("POST", "/contracts", json={"terms": terms})
    assert clauses.status_code == 422
    errors = clauses.json["errors"]
    assert "fees" in errors["terms.fee"][0] and "breach_liability" in errors["terms.fee"][0]
    assert "credit_code" in errors["terms.parties.provider.nickname"][0]

    contract_id = negotiation.create()
    form = negotiation.complete(
        contract_id,
        "define_requirement",
        "manager",
        {"need": "OA", "budget": {"amount": "1"}, "bugdet": 1},
    )
    assert form.status_code == 422
    assert "budget" in form.json["errors"]["bugdet"][0]


def test_openapi_documents_the_terms_schema(negotiation: Negotiation):
    document = negotiation.client.get("/openapi.json").json
    schemas = document["components"]["schemas"]
    assert schemas["ContractOut"]["properties"]["terms"] == {
        "$ref": "#/components/schemas/ContractTerms"
    }
    clauses = schemas["ContractTerms"]["properties"]
    assert {"parties", "service_content", "fees", "breach_liability"} <= set(clauses)
    create = document["paths"]["/contracts"]["post"]
    assert "201" in create["responses"]
