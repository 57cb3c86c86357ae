"""Termination requests: notice period, compensation, approval, disputes, handover, settlement.

Service operations of `workflows/approval/termination_request.bpmn`. The notice period
comes from the signed contract (read model), else from the terms; the termination cannot
take effect before it ends. Compensation follows the breach-liability clause: the side
that causes the termination pays the other its claimed loss, capped by the liability cap.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from contractflow.contracts import load_contract_terms
from contractflow.workflow import ServiceCall, WorkflowRuntime
from services.approval.models import DisputeStage, SignedContract
from services.approval.signed_contracts import mark_terminated

# grounds -> (payer, payee): who caused it pays
LIABLE = {
    "provider_breach": ("provider", "user"),
    "user_convenience": ("user", "provider"),
    "mutual": ("none", "none"),
    "expiry": ("none", "none"),
}
HANDOVER = [
    "data returned complete and verified",
    "documents returned",
    "accounts deactivated",
    "software uninstalled or deactivated",
    "licence ended",
]


def assess(call: ServiceCall) -> dict[str, Any]:
    v, session = call.variables, call.step.session
    terms = load_contract_terms(v["current_terms"])
    contract = session.get(SignedContract, v["contract_id"])
    term = terms.service_term
    notice_days = (
        contract.notice_period_days if contract else (term.notice_period_days if term else None)
    )
    if notice_days is None:
        raise ValueError(f"contract {v['contract_id']}: no notice period in the contract")
    notice_given = dt.date.fromisoformat(v["notice_given_on"])
    earliest = notice_given + dt.timedelta(days=notice_days)
    wanted = v.get("requested_effective_date")
    effective = max(earliest, dt.date.fromisoformat(wanted)) if wanted else earliest
    payer, payee = LIABLE[v["grounds"]]
    currency = terms.fees.currency if terms.fees and terms.fees.currency else "CNY"
    claimed = Decimal(v.get("claimed_damages") or "0")
    cap = terms.breach_liability.liability_cap if terms.breach_liability else None
    amount = claimed if payer != "none" else Decimal("0")
    if cap is not None and amount > cap.amount:
        amount = cap.amount
    clause = terms.breach_liability.termination_compensation if terms.breach_liability else None
    basis = clause or "no breach-liability clause"
    if cap is not None and claimed > cap.amount and payer != "none":
        basis += f" (claimed {claimed:,.2f} capped at the liability cap {cap.amount:,.2f})"
    return {
        "notice_period_days": notice_days,
        "earliest_effective_date": earliest.isoformat(),
        "effective_date": effective.isoformat(),
        "notice_ends_at": f"{effective.isoformat()}T00:00:00+08:00",
        "compensation": {
            "payer": payer,
            "payee": payee,
            "amount": {"amount": f"{amount:.2f}", "currency": currency},
            "basis": basis,
        },
    }


def approval_request(call: ServiceCall) -> dict[str, Any]:
    v, a = call.variables, call.variables["assessment"]
    contract = call.step.session.get(SignedContract, v["contract_id"])
    money = a["compensation"]["amount"]
    return {
        "request_id": v["request_id"],
        "contract_id": v["contract_id"],
        "kind": "termination",
        "amount": money["amount"],
        "currency": money["currency"],
        "risk": v["risk"],
        "requester": v["requested_by"],
        "summary": (
            f"解除合同（{v['grounds']}），{a['effective_date']} 生效 / termination on "
            f"{v['grounds']} grounds effective {a['effective_date']}"
        ),
        "subject_url": v["subject_url"],
        "provider": contract.provider_name if contract else None,
        "reason": v["reason"],
        "changes": [
            f"通知期 notice period: {a['notice_period_days']} days",
            f"赔偿 compensation: {a['compensation']['payer']} → {a['compensation']['payee']} "
            f"{money['amount']} {money['currency']}",
        ],
    }


def record_dispute(call: ServiceCall) -> list[dict[str, Any]]:
    v, session = call.variables, call.step.session
    session.add(
        DisputeStage(
            request_id=v["request_id"],
            stage=v["dispute_stage"],
            outcome=v["dispute_outcome"],
            note=v.get("dispute_note") or "",
            recorded_by=v.get("recorded_by") or "contract-manager",
            recorded_at=call.step.now,
        )
    )
    session.flush()
    rows = session.scalars(
        select(DisputeStage)
        .where(DisputeStage.request_id == v["request_id"])
        .order_by(DisputeStage.id)
    )
    return [{"stage": r.stage, "outcome": r.outcome, "note": r.note} for r in rows]


def conclude(call: ServiceCall) -> dict[str, Any]:
    v, a = call.variables, call.variables["assessment"]
    mark_terminated(call.step.session, v["contract_id"])
    return {
        "contract_id": v["contract_id"],
        "request_id": v["request_id"],
        "grounds": v["grounds"],
        "notice_given_on": v["notice_given_on"],
        "effective_date": a["effective_date"],
        "compensation": a["compensation"],
        "settlement": {
            "payer": v["settlement_payer"],
            "amount": {"amount": v["settlement_amount"], "currency": v["settlement_currency"]},
            "note": v.get("settlement_note") or "",
        },
        "disputes": v.get("disputes") or [],
        "handover": HANDOVER,
    }


def register(runtime: WorkflowRuntime) -> None:
    runtime.service_tasks.register("termination.assess", assess)
    runtime.service_tasks.register("termination.approval_request", approval_request)
    runtime.service_tasks.register("termination.record_dispute", record_dispute)
    runtime.service_tasks.register("termination.conclude", conclude)
    runtime.publish_message("contract_terminated", "contract.terminated.v1")
