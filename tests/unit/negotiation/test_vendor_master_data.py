"""The provider qualification check uses the ERP's latest master data of the provider
(`erp.vendor.updated`): its business licence and certifications win over the draft's copy;
an older update arriving late changes nothing."""

from __future__ import annotations

from typing import Any

from contractflow.contracts.samples import SAMPLE_PROVIDER_CREDIT_CODE
from tests.conftest import both_databases
from tests.unit.negotiation.support import Negotiation, terms_json
from tests.unit.negotiation.test_after_signing_and_checks import deliver


def vendor(valid_until: str | None, updated_at: str, **extra: Any) -> dict[str, Any]:
    return {
        "vendor_id": SAMPLE_PROVIDER_CREDIT_CODE,
        "name": "杭州云维信息技术有限公司",
        "business_licence": {
            "name": "营业执照",
            "number": SAMPLE_PROVIDER_CREDIT_CODE,
            "valid_until": valid_until,
        },
        "updated_at": updated_at,
        **extra,
    }


def qualification_codes(negotiation: Negotiation, contract_id: str) -> list[str]:
    checks = negotiation.contract(contract_id)["checks"]["provider_qualification"]
    return [p["code"] for p in checks["problems"]]


@both_databases
def test_the_erps_expired_licence_fails_the_check_whatever_the_terms_say(negotiation):
    deliver(
        negotiation,
        "erp.vendor.updated.v1",
        SAMPLE_PROVIDER_CREDIT_CODE,
        vendor("2024-06-30", "2024-10-01T09:00:00+08:00"),
    )
    contract_id = negotiation.create()  # the sample's terms: a licence valid for years
    negotiation.prepare(contract_id)
    assert "business_licence_expired" in qualification_codes(negotiation, contract_id)
    assert negotiation.contract(contract_id)["status"] == "research", "sent back"


@both_databases
def test_the_erps_renewed_licence_and_certifications_pass_and_a_late_older_update_is_ignored(
    negotiation,
):
    terms = terms_json()
    terms["parties"]["provider_qualification"]["business_licence_valid_until"] = "2024-06-30"
    terms["parties"]["provider_qualification"]["certifications"] = []
    certified = {"certifications": [{"name": "ISO/IEC 27001", "valid_until": "2028-01-31"}]}
    deliver(
        negotiation,
        "erp.vendor.updated.v1",
        SAMPLE_PROVIDER_CREDIT_CODE,
        vendor("2029-06-30", "2024-10-02T09:00:00+08:00", **certified),
    )
    deliver(  # sent before the renewal, delivered after it
        negotiation,
        "erp.vendor.updated.v1",
        SAMPLE_PROVIDER_CREDIT_CODE,
        vendor("2024-06-30", "2024-10-01T09:00:00+08:00"),
    )
    contract_id = negotiation.create(terms)
    negotiation.prepare(contract_id)
    assert qualification_codes(negotiation, contract_id) == []
    assert negotiation.contract(contract_id)["status"] != "research"
