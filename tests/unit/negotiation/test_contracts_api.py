"""The contract API: create, edit, search, submit gates, conflicts, roles and problems."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from contractflow.db import Base
from tests.conftest import both_databases
from tests.unit.negotiation.support import Negotiation, signing_data, terms_json

pytestmark = both_databases


def exclusive(
    software_id: str = "shared-erp", territory: list[str] | None = None, user: str = "A"
) -> dict:
    """An exclusive licence; drafts of different users (licensees) conflict when they overlap."""
    terms = terms_json()
    terms["parties"]["user"].update(
        name=f"用户 {user} 有限公司", credit_code=f"9131000000000000{user}X"
    )
    terms["licence"].update(
        software_id=software_id, type="exclusive", territory=territory or ["CN"]
    )
    return terms


def test_migration_creates_exactly_the_tables_the_models_describe(negotiation: Negotiation):
    with negotiation.kernel.engine.connect() as conn:
        diffs = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert [d for d in diffs if "contract_draft" in repr(d)] == []


def test_a_draft_keeps_its_terms_and_searchable_columns(negotiation: Negotiation):
    contract_id = negotiation.create()
    contract = negotiation.contract(contract_id)
    assert contract["title"].startswith("明德 OA")
    assert contract["provider_id"] == "91330106MA2B3C4D5E"
    assert contract["provider_name"] == "杭州云维信息技术有限公司"
    assert (contract["start_date"], contract["end_date"]) == ("2025-01-01", "2025-12-31")
    assert (contract["total_amount"], contract["currency"]) == ("170720.00", "CNY")
    assert contract["timezone"] == "Asia/Shanghai"
    assert contract["terms"] == terms_json()
    assert [t["element_id"] for t in contract["workflow"]["open_tasks"]] == ["define_requirement"]
    assert contract["workflow"]["history"][0]["kind"] == "started"


def test_a_partial_draft_is_accepted_and_invalid_terms_are_a_422_naming_the_fields(
    negotiation: Negotiation,
):
    partial = negotiation.call("POST", "/contracts", json={"terms": {"title": "只有标题"}})
    assert partial.status_code == 201
    assert partial.json["total_amount"] is None
    bad = negotiation.call(
        "POST",
        "/contracts",
        json={"terms": {"service_term": {"start_date": "2025-13-01"}, "fees": {"x": 1}}},
    )
    assert bad.status_code == 422
    assert bad.mimetype == "application/problem+json"
    assert set(bad.json["errors"]) >= {"terms.service_term.start_date", "terms.fees.x"}
    not_json = negotiation.call("POST", "/contracts", data="terms", content_type="text/plain")
    assert not_json.status_code == 400


def test_editing_needs_the_current_version(negotiation: Negotiation):
    contract_id = negotiation.create()
    contract = negotiation.contract(contract_id)
    terms = {**contract["terms"], "title": "新标题"}
    stale = negotiation.call(
        "PUT",
        f"/contracts/{contract_id}/terms",
        json={"terms": terms, "version": contract["version"] - 1},
    )
    assert stale.status_code == 409
    assert stale.json["current_version"] == contract["version"]
    fresh = negotiation.call(
        "PUT",
        f"/contracts/{contract_id}/terms",
        json={"terms": terms, "version": contract["version"]},
    )
    assert fresh.status_code == 200
    assert fresh.json["title"] == "新标题"
    assert fresh.json["version"] == contract["version"] + 1


def test_the_version_a_change_answers_is_the_one_the_next_edit_sends(negotiation: Negotiation):
    created = negotiation.call("POST", "/contracts", json={"terms": terms_json()})
    assert created.status_code == 201
    contract_id = created.json["contract_id"]
    assert created.json["version"] == negotiation.contract(contract_id)["version"]
    edited = negotiation.call(
        "PUT",
        f"/contracts/{contract_id}/terms",
        json={"terms": created.json["terms"], "version": created.json["version"]},
    )
    assert edited.status_code == 200, edited.json
    negotiation.prepare(contract_id)
    submitted = negotiation.submit(contract_id)
    assert submitted.status_code == 200, submitted.json
    shown = negotiation.contract(contract_id)
    assert (submitted.json["status"], submitted.json["version"]) == (
        shown["status"],
        shown["version"],
    )


def test_submission_is_refused_until_every_required_clause_is_filled(negotiation: Negotiation):
    terms = terms_json()
    del terms["confidentiality"]
    terms["dispute_resolution"]["governing_law"] = None
    contract_id = negotiation.create(terms)
    negotiation.prepare(contract_id)
    response = negotiation.submit(contract_id)
    assert response.status_code == 422
    problems = {(p["clause"], p["field"]) for p in response.json["problems"]}
    assert ("confidentiality", "confidentiality") in problems
    assert ("governing_law", "dispute_resolution.governing_law") in problems
    assert negotiation.contract(contract_id)["status"] == "drafting"


def test_completing_the_drafting_task_directly_still_runs_the_checks(negotiation: Negotiation):
    terms = terms_json()
    del terms["confidentiality"]
    contract_id = negotiation.create(terms)
    negotiation.prepare(contract_id)
    negotiation.complete_ok(contract_id, "draft_contract", "manager", {})
    contract = negotiation.contract(contract_id)
    assert contract["status"] == "drafting"
    assert "confidentiality" in {p["clause"] for p in contract["feedback"]}
    assert negotiation.task(contract_id, "draft_contract")


def test_submitting_before_drafting_is_a_conflict(negotiation: Negotiation):
    contract_id = negotiation.create()
    response = negotiation.submit(contract_id)
    assert response.status_code == 409
    assert response.json["open_tasks"] == ["define_requirement"]


def test_an_exclusive_licence_overlapping_another_active_contract_is_flagged(
    negotiation: Negotiation,
):
    first = negotiation.create(exclusive())
    second = negotiation.create(exclusive(territory=["CN-SH"], user="B"))
    negotiation.prepare(second)
    response = negotiation.submit(second)
    assert response.status_code == 422
    [conflict] = [p for p in response.json["problems"] if p["code"] == "licence_conflict"]
    assert first in conflict["message"]
    check = negotiation.call(
        "POST", "/checks/licence-conflicts", json={"terms": exclusive(territory=["US"], user="C")}
    )
    assert check.status_code == 200 and check.json["ok"] is True
    negotiation.call("POST", f"/contracts/{first}/cancel", json={"reason": "replaced"})
    assert negotiation.submit(second).status_code == 200


def test_a_signed_contract_cannot_be_edited_or_cancelled_here(negotiation: Negotiation):
    contract_id = negotiation.create()
    negotiation.to_approval(contract_id)
    [request] = negotiation.outbox("approval.requested.v1")
    negotiation.decide(request, "approved")
    negotiation.complete_ok(contract_id, "sign_contract", "manager", signing_data())
    contract = negotiation.contract(contract_id)
    assert contract["signing"]["document_sha256"] == signing_data()["document_sha256"]
    edit = negotiation.call(
        "PUT",
        f"/contracts/{contract_id}/terms",
        json={"terms": contract["terms"], "version": contract["version"]},
    )
    assert edit.status_code == 409
    assert edit.mimetype == "application/problem+json"
    assert "change request" in edit.json["detail"]
    cancel = negotiation.call("POST", f"/contracts/{contract_id}/cancel", json={"reason": "x"})
    assert cancel.status_code == 409


def test_task_forms_reject_bad_data_naming_the_fields(negotiation: Negotiation):
    contract_id = negotiation.create()
    bad = negotiation.complete(
        contract_id,
        "define_requirement",
        "manager",
        {"budget": {"amount": 1.505}},  # 3 places
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"need", "budget"}
    assert "amount" in bad.json["errors"]["budget"]
    negotiation.prepare(contract_id)
    assert negotiation.submit(contract_id).status_code == 200
    silent = negotiation.complete(contract_id, "legal_review", "legal", {"decision": "send_back"})
    assert silent.status_code == 422
    assert "comments" in silent.json["errors"]


def test_roles_decide_who_may_do_what(negotiation: Negotiation):
    assert negotiation.client.get("/contracts").status_code == 401
    forbidden = negotiation.call("POST", "/contracts", "viewer", json={"terms": {}})
    assert forbidden.status_code == 403
    assert forbidden.json["required_roles"] == ["contract-manager"]
    contract_id = negotiation.create()
    negotiation.prepare(contract_id)
    negotiation.submit(contract_id)
    wrong_reviewer = negotiation.complete(
        contract_id, "legal_review", "technical", {"decision": "accept"}
    )
    assert wrong_reviewer.status_code == 403
    inbox = negotiation.call("GET", "/workflow/tasks", "finance").json["tasks"]
    assert [t["element_id"] for t in inbox] == ["finance_review"]


def test_contracts_are_listed_and_searched(negotiation: Negotiation):
    oa = negotiation.create()
    other = terms_json()
    other["title"] = "ERP 运维合同"
    other["parties"]["provider"]["name"] = "北京数安科技有限公司"
    other["parties"]["provider"]["credit_code"] = "91110108MA00000001"
    other["service_term"]["end_date"] = "2026-06-30"
    other["licence"]["end_date"] = "2026-06-30"
    erp = negotiation.create(other)
    negotiation.prepare(erp, provider="北京数安")

    def ids(**query: str) -> list[str]:
        response = negotiation.call("GET", "/contracts", "viewer", query_string=query)
        assert response.status_code == 200, response.json
        return sorted(c["contract_id"] for c in response.json["contracts"])

    assert ids() == sorted([oa, erp])
    assert ids(status="drafting") == [erp]
    assert ids(provider="91110108MA00000001") == [erp]
    assert ids(provider="云维") == [oa]
    assert ids(q="erp") == [erp]
    assert ids(expiring_before="2026-01-01") == [oa]
    assert ids(expiring_after="2026-01-01") == [erp]
    bad = negotiation.call("GET", "/contracts", "viewer", query_string={"status": "nope"})
    assert bad.status_code == 400 and "status" in bad.json["errors"]


def test_openapi_describes_the_contract_and_check_routes(negotiation: Negotiation):
    document = negotiation.client.get("/openapi.json").json
    assert document is not None
    paths = document["paths"]
    for path in (
        "/contracts",
        "/contracts/{contract_id}",
        "/contracts/{contract_id}/terms",
        "/contracts/{contract_id}/submit",
        "/contracts/{contract_id}/cancel",
        "/contracts/{contract_id}/tasks",
        "/checks/clauses",
        "/checks/fees",
        "/checks/qualification",
        "/checks/licence-conflicts",
        "/workflow/tasks",
    ):
        assert path in paths, path


def test_the_conflict_check_follows_an_edit_of_the_other_contract(negotiation: Negotiation):
    # The other contracts' grants are cached by row version: an edit must show at once.
    first = negotiation.create(exclusive())
    second = exclusive(territory=["CN-SH"], user="B")
    check = negotiation.call("POST", "/checks/licence-conflicts", json={"terms": second})
    assert check.json["ok"] is False
    contract = negotiation.contract(first)
    moved = negotiation.call(
        "PUT",
        f"/contracts/{first}/terms",
        json={"terms": exclusive(territory=["US"]), "version": contract["version"]},
    )
    assert moved.status_code == 200
    check = negotiation.call("POST", "/checks/licence-conflicts", json={"terms": second})
    assert check.json["ok"] is True


def test_an_edit_of_checked_terms_moves_the_version_by_one(negotiation: Negotiation):
    # After the provider research the draft shows checks, which an edit runs again; that
    # check reads the vendor master data, and flushing the edit before that read wrote
    # the row twice.
    contract_id = negotiation.create()
    negotiation.prepare(contract_id)
    contract = negotiation.contract(contract_id)
    assert "provider_qualification" in contract["checks"]
    negotiation.clock.now += dt.timedelta(minutes=5)  # the edit changes updated_at too
    edited = negotiation.call(
        "PUT",
        f"/contracts/{contract_id}/terms",
        json={"terms": {**contract["terms"], "title": "新标题"}, "version": contract["version"]},
    )
    assert edited.status_code == 200, edited.json
    assert edited.json["version"] == contract["version"] + 1
    assert negotiation.contract(contract_id)["version"] == edited.json["version"]
