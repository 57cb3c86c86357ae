"""Change requests: impact assessment, the approval request, the written amendment.

Service operations of `workflows/approval/change_request.bpmn`; they run in the workflow
step's transaction. Terms travel as `dump_contract_terms` JSON in the process variables.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from contractflow.contracts import load_contract_terms, recalculate_for_change
from contractflow.workflow import ServiceCall, WorkflowRuntime
from services.approval.models import Amendment
from services.approval.request_texts import CHANGE_LABELS as CHANGE_NAMES
from services.approval.request_texts import change_texts
from services.approval.signed_contracts import follow_amendment, names_of

# Both languages, for the written amendment's description (`contract.amended`); the
# approvers read the lines in their own language (request_texts).
CHANGE_LABELS = {key: f"{zh} {CHANGE_NAMES['en'][key]}" for key, zh in CHANGE_NAMES["zh"].items()}


def describe_changes(changes: dict[str, Any]) -> list[str]:
    """The changes in words, one line per changed clause (for emails and the amendment)."""
    lines = []
    for key, label in CHANGE_LABELS.items():
        value = changes.get(key)
        if value:
            text = ", ".join(value) if isinstance(value, list) else str(value)
            lines.append(f"{label}: {text}")
    return lines


def assess_impact(call: ServiceCall) -> dict[str, Any]:
    v = call.variables
    old = load_contract_terms(v["current_terms"])
    new = load_contract_terms(v["new_terms"])
    change = recalculate_for_change(old, new, dt.date.fromisoformat(v["effective_date"]))
    return change.to_dict()


def approval_request(call: ServiceCall) -> dict[str, Any]:
    v, impact = call.variables, call.variables["impact"]
    difference = Decimal(impact["difference"]["amount"])
    names = names_of(call.step.session, v["contract_id"], v["current_terms"])
    return {
        "request_id": v["request_id"],
        "contract_id": v["contract_id"],
        "kind": "change",
        "amount": str(abs(difference)),
        "currency": impact["currency"],
        "risk": v["risk"],
        "requester": v["requested_by"],
        "summary": (
            f"合同变更，自 {v['effective_date']} 起生效；费用变化 {difference:+,.2f} "
            f"{impact['currency']} / change effective {v['effective_date']}, "
            f"fee difference {difference:+,.2f}"
        ),
        "subject_url": v["subject_url"],
        "provider": names["provider"],
        "title": names["title"],
        "reason": v["reason"],
        "changes": describe_changes(v["changes"]),
        "texts": change_texts(v["changes"], v["effective_date"], difference, impact["currency"]),
    }


def record_amendment(call: ServiceCall) -> dict[str, Any]:
    """Record the signed amendment, or say why it cannot be (the task is asked again)."""
    v, session = call.variables, call.step.session
    effective = dt.date.fromisoformat(v["effective_date"])
    signed_on = dt.date.fromisoformat(v["signed_on"])
    if effective < signed_on:
        return {
            "problem": f"the effective date {effective} precedes the signing on {signed_on}; "
            "an amendment cannot take effect before it is signed"
        }
    if session.get(Amendment, v["amendment_number"]) is not None:
        return {"problem": f"amendment number {v['amendment_number']!r} is already used"}
    impact = v["impact"]
    follow_amendment(session, v["contract_id"], v["new_terms"], impact["total_after_change"])
    description = v.get("amendment_text") or "\n".join(describe_changes(v["changes"]))
    session.add(
        Amendment(
            number=v["amendment_number"],
            request_id=v["request_id"],
            contract_id=v["contract_id"],
            description=description,
            changes=v["changes"],
            effective_date=effective,
            signed_on=signed_on,
            signed_for_user=v["signed_for_user"],
            signed_for_provider=v["signed_for_provider"],
            recorded_at=call.step.now,
        )
    )
    return {
        "contract_id": v["contract_id"],
        "request_id": v["request_id"],
        "amendment_number": v["amendment_number"],
        "description": description,
        "changes": v["changes"],
        "effective_date": effective.isoformat(),
        "signed_on": signed_on.isoformat(),
        "signed_by": {"user": v["signed_for_user"], "provider": v["signed_for_provider"]},
        "terms": v["new_terms"],
        "difference": impact["difference"],
        "total_after": impact["total_after_change"],
        "fee_schedule": [
            {
                "due_date": i["due_date"],
                "amount": i["amount"],
                "kind": i["kind"],
                "description": i["description"],
            }
            for i in impact["schedule"]
        ],
    }


def register(runtime: WorkflowRuntime) -> None:
    runtime.service_tasks.register("change.assess_impact", assess_impact)
    runtime.service_tasks.register("change.approval_request", approval_request)
    runtime.service_tasks.register("change.record_amendment", record_amendment)
    runtime.publish_message("contract_amended", "contract.amended.v1")
