"""Task forms name the bad fields; time zones come from the terms or the configured default."""

from __future__ import annotations

import pytest

from tests.conftest import both_databases
from tests.unit.negotiation.support import Negotiation, signing_data, terms_json


@pytest.fixture
def berlin(database_factory):
    service = Negotiation(database_factory("negotiation"), timezone="Europe/Berlin")
    yield service
    service.close()


@both_databases
def test_the_configured_time_zone_is_the_default_and_the_terms_may_name_their_own(berlin):
    terms = terms_json()
    del terms["timezone"]
    assert berlin.contract(berlin.create(terms))["timezone"] == "Europe/Berlin"
    assert berlin.contract(berlin.create(terms_json()))["timezone"] == "Asia/Shanghai"
    bad = berlin.call("POST", "/contracts", json={"terms": {"timezone": "Mars/Olympus"}})
    assert bad.status_code == 422 and "terms.timezone" in bad.json["errors"]


@both_databases
def test_signing_needs_both_signatories_an_aware_time_and_a_sha256(negotiation: Negotiation):
    contract_id = negotiation.create()
    negotiation.to_approval(contract_id)
    [request] = negotiation.outbox("approval.requested.v1")
    negotiation.decide(request, "approved")
    bad = {
        **signing_data(at="2024-12-20T10:00:00"),
        "document_sha256": "not-a-hash",
    }
    del bad["provider_signatory"]
    response = negotiation.complete(contract_id, "sign_contract", "manager", bad)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {
        "user_signatory",
        "provider_signatory",
        "document_sha256",
    }
    assert "signed_at" in response.json["errors"]["user_signatory"]
    assert negotiation.contract(contract_id)["status"] == "signing"
    negotiation.complete_ok(
        contract_id,
        "sign_contract",
        "manager",
        {
            **signing_data(),
            "provider_signatory": {"name": "陈思远", "signed_at": "2024-12-21T09:30:00+08:00"},
        },
    )
    [signed] = negotiation.outbox("contract.signed.v1")
    # the contract is signed when the last side signs
    assert signed.data["signed_at"] == "2024-12-21T09:30:00+08:00"
    assert signed.data["signed_document"]["sha256"] == signing_data()["document_sha256"]
