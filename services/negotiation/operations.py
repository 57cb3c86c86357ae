"""The pre-signing workflow's service tasks: each keeps the draft row in step with the
workflow, in the same transaction as the step that runs it."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from contractflow.workflow import ServiceCall, WorkflowRuntime
from contractflow.workflow.service_tasks import ServiceOperation
from services.negotiation import models as m
from services.negotiation import vendors
from services.negotiation.checks import (
    assess_budget,
    check_provider_choice,
    draft_budget,
    price,
    stored_draft_checks,
    stored_terms,
)
from services.negotiation.drafts import get_draft
from services.negotiation.models import ContractDraft
from services.negotiation.signing import approval_request_data, signed_event_data

REVIEW_ROLES = ("legal", "technical", "finance")


def _draft(call: ServiceCall) -> ContractDraft:
    contract_id = call.step.contract_id
    if contract_id is None:
        raise ValueError(f"{call.element_id}: the pre-signing instance has no contract id")
    # Locked: a terms edit committing meanwhile is waited for and read, never overwritten.
    draft = get_draft(call.step.session, contract_id, lock=True)
    draft.updated_at = call.step.now
    return draft


def record_requirement(call: ServiceCall) -> None:
    draft, v = _draft(call), call.variables
    draft.requirement = {"need": v["need"], "scope": v.get("scope", ""), "budget": v["budget"]}
    draft.budget_amount = Decimal(v["budget"]["amount"])
    draft.budget_currency = v["budget"]["currency"]
    draft.status = m.RESEARCH


def check_qualification(call: ServiceCall) -> dict[str, Any]:
    draft, v = _draft(call), call.variables
    draft.requirement = {
        **(draft.requirement or {}),
        "provider_research": {
            "providers_considered": v.get("providers_considered", []),
            "chosen_provider": v.get("chosen_provider"),
            "notes": v.get("notes", ""),
        },
    }
    terms = stored_terms(draft)
    result = vendors.check_qualification(call.step.session, terms, now=call.step.now).to_dict()
    choice = check_provider_choice(terms, v.get("chosen_provider")).to_dict()
    draft.checks = {
        **(draft.checks or {}),
        "provider_qualification": result,
        "provider_choice": choice,
    }
    ok = result["ok"] and choice["ok"]
    draft.feedback = None if ok else [*result["problems"], *choice["problems"]]
    return {"ok": ok}


def check_budget_before_drafting(call: ServiceCall) -> dict[str, Any]:
    """A first look at the fees against the budget; binding again at finance review."""
    draft = _draft(call)
    quote, _ = price(stored_terms(draft))
    budget = assess_budget(quote, draft_budget(draft))
    draft.checks = {**(draft.checks or {}), "budget": budget}
    draft.status = m.DRAFTING
    return {"status": budget["status"]}


def check_draft(call: ServiceCall) -> dict[str, Any]:
    """Submission gate: the checks again, whoever completed the drafting task (after a
    submit, the run it made on this row version in this transaction)."""
    draft = _draft(call)
    checks = stored_draft_checks(call.step.session, draft, call.step.now)
    draft.checks = checks.to_dict()
    if checks.quote is not None:
        draft.fee_quote = checks.quote.to_dict()
    if checks.ok:
        draft.status, draft.feedback = m.IN_REVIEW, None
        draft.review_round += 1
    else:
        draft.status = m.DRAFTING
        draft.feedback = [{"from": "checks", **p.to_dict()} for p in checks.blocking]
    return {"ok": checks.ok}


def record_review(call: ServiceCall) -> None:
    role = str(call.params["role"])
    if role not in REVIEW_ROLES:
        raise ValueError(f"{call.element_id}: unknown review role {role!r}")
    draft, v = _draft(call), call.variables
    review = {
        "round": draft.review_round,
        "role": role,
        "decision": v["decision"],
        "comments": v.get("comments", ""),
        # The review task's completion is what runs this step: its actor is the reviewer.
        "reviewer": call.step.actor,
        "at": call.step.now.isoformat(),
    }
    if role == "finance":
        review["accept_over_budget"] = bool(v.get("accept_over_budget", False))
    draft.reviews = [*draft.reviews, review]


def return_to_drafting(call: ServiceCall) -> None:
    """A reviewer sent the draft back: the round ends, the comments go to the drafter."""
    draft = _draft(call)
    draft.status = m.DRAFTING
    draft.feedback = [
        {"from": r["role"], "comments": r["comments"]}
        for r in draft.reviews
        if r["round"] == draft.review_round and r["decision"] == "send_back"
    ]


def collect_reviews(call: ServiceCall) -> dict[str, Any]:
    """All three reviewers accepted, and finance accepted any excess over the budget."""
    draft = _draft(call)
    latest = {r["role"]: r for r in draft.reviews if r["round"] == draft.review_round}
    feedback = [
        {"from": role, "comments": r["comments"]}
        for role, r in latest.items()
        if r["decision"] == "send_back"
    ]
    finance = latest.get("finance", {})
    quote, _ = price(stored_terms(draft))
    budget = assess_budget(quote, draft_budget(draft), bool(finance.get("accept_over_budget")))
    draft.checks = {**(draft.checks or {}), "budget": budget}
    if not budget["ok"]:
        feedback.append({"from": "budget", "comments": budget["problems"][0]["message"]})
    if feedback:
        draft.status, draft.feedback = m.DRAFTING, feedback
        return {"passed": False}
    return {"passed": True}


def request_approval(public_url: str) -> ServiceOperation:
    def request_approval_of_draft(call: ServiceCall) -> dict[str, Any]:
        draft = _draft(call)
        draft.approval_request_id = f"AR-{uuid.uuid4().hex}"
        draft.status = m.AWAITING_APPROVAL
        return approval_request_data(draft, public_url)

    return request_approval_of_draft


def record_decision(call: ServiceCall) -> dict[str, Any]:
    draft, decision = _draft(call), call.variables["approval"]
    draft.approvals = [*draft.approvals, decision]
    draft.approval_request_id = None
    if decision["outcome"] == "approved":
        draft.status, draft.feedback = m.SIGNING, None
        return {"approved": True}
    draft.status = m.DRAFTING
    draft.feedback = [
        {"from": f"approval level {d['level']} ({d['approver']})", "comments": d["comment"]}
        for d in decision.get("decisions", [])
        if d.get("decision") == "rejected"
    ] or [{"from": "approval", "comments": "rejected without a comment"}]
    return {"approved": False}


def record_signing(call: ServiceCall) -> dict[str, Any]:
    draft, v = _draft(call), call.variables
    draft.signing = {
        "user_signatory": v["user_signatory"],
        "provider_signatory": v["provider_signatory"],
        "document_reference": v["document_reference"],
        "document_sha256": v["document_sha256"],
    }
    draft.signed_at = call.step.now
    draft.status = m.SIGNED
    return signed_event_data(draft, stored_terms(draft), call.step.now)


OPERATIONS = {
    "negotiation.record_requirement": record_requirement,
    "negotiation.check_qualification": check_qualification,
    "negotiation.check_budget": check_budget_before_drafting,
    "negotiation.check_draft": check_draft,
    "negotiation.record_review": record_review,
    "negotiation.return_to_drafting": return_to_drafting,
    "negotiation.collect_reviews": collect_reviews,
    "negotiation.record_decision": record_decision,
    "negotiation.record_signing": record_signing,
}


def register_operations(runtime: WorkflowRuntime, *, public_url: str) -> None:
    """`public_url`: where people reach this service, for links in other services' mails."""
    for name, operation in OPERATIONS.items():
        runtime.service_tasks.register(name, operation)
    runtime.service_tasks.register("negotiation.request_approval", request_approval(public_url))
