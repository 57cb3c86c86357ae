"""Termination requests: notice period, compensation, approval, disputes, settlement.

Service operations of `workflows/approval/termination_request.bpmn`. The notice period
comes from the signed contract (read model), else from the terms; the termination cannot
take effect before it ends. Compensation follows the breach-liability clause: the side
that causes the termination pays the other its claimed loss, capped by the liability cap.
The data handover is not done here: `contract.terminated` names what it covers, and the
renewal service runs its one handover workflow for it, as for a contract that expires.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from contractflow.contracts import load_contract_terms
from contractflow.workflow import ServiceCall, WorkflowRuntime
from services.approval.models import DisputeStage, SignedContract
from services.approval.request_texts import termination_texts
from services.approval.signed_contracts import mark_terminated, names_of

# grounds -> (payer, payee): who caused it pays
LIABLE = {
    "provider_breach": ("provider", "user"),
    "user_convenience": ("user", "provider"),
    "mutual": ("none", "none"),
    "expiry": ("none", "none"),
}
# A dispute goes through these in order, each at most once (DOMAIN §7).
DISPUTE_STAGES = ("negotiation", "arbitration", "litigation")
# What the renewal service's handover (workflows/renewal/handover.bpmn) then covers, told in
# `contract.terminated` so its readers know the contract is not handed over yet.
HANDOVER = [
    "data export received and verified complete (record count, SHA-256)",
    "documents returned",
    "credentials revoked",
    "software uninstalled or deactivated",
    "confidential material returned or destroyed",
]


class TerminationDatesInvalid(ValueError):
    """The notice or the wished date cannot be; `errors` maps request fields to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def check_request_dates(
    contract: SignedContract | None,
    current_terms: dict[str, Any],
    notice_given_on: dt.date,
    requested_effective_date: dt.date | None,
) -> None:
    """A notice cannot precede the signing (when this service saw it), and a termination
    cannot take effect before the contract starts."""
    terms = load_contract_terms(current_terms)
    errors: dict[str, list[str]] = {}
    if contract is not None:
        signed_on = contract.signed_at.astimezone(ZoneInfo(terms.timezone)).date()
        if notice_given_on < signed_on:
            errors["notice_given_on"] = [
                f"notice given on {notice_given_on} precedes the signing on {signed_on}"
            ]
    term = terms.service_term
    start = (term.start_date if term else None) or (contract.start_date if contract else None)
    if (
        start is not None
        and requested_effective_date is not None
        and (requested_effective_date < start)
    ):
        errors["requested_effective_date"] = [
            f"{requested_effective_date} precedes the contract's start on {start}"
        ]
    if errors:
        raise TerminationDatesInvalid(errors)


def compensation_basis(terms: Any, payer: str) -> str:
    """The clause the compensation follows: the termination-compensation wording, else what
    the breach-liability clause says the liable side owes."""
    clause = terms.breach_liability
    if clause is None:
        return "no breach-liability clause"
    if clause.termination_compensation:
        return str(clause.termination_compensation)
    owed = {"provider": clause.provider_liabilities, "user": clause.user_liabilities}.get(payer)
    if owed:
        return "breach liability: " + "; ".join(owed)
    return "the breach-liability clause names no termination compensation"


def dispute_stage_problems(
    recorded: list[dict[str, Any]], stage: Any, outcome: Any
) -> dict[str, list[str]]:
    """Field errors of a dispute stage given the stages already recorded: negotiation, then
    arbitration, then litigation, each once; litigation is the last, nothing to escalate to."""
    done = [r["stage"] for r in recorded]
    if done and done[-1] not in DISPUTE_STAGES:
        return {"dispute_stage": [f"unknown recorded stage {done[-1]!r}"]}
    position = DISPUTE_STAGES.index(done[-1]) + 1 if done else 0
    expected = DISPUTE_STAGES[position] if position < len(DISPUTE_STAGES) else None
    errors: dict[str, list[str]] = {}
    if stage in DISPUTE_STAGES and stage != expected:
        after = f" after {', '.join(done)}" if done else ""
        errors["dispute_stage"] = [
            f"the next stage is {expected}{after}: a dispute goes negotiation → arbitration → "
            "litigation, each once, never back"
        ]
    if stage == DISPUTE_STAGES[-1] and outcome == "escalate":
        errors["dispute_outcome"] = [
            "litigation is the last stage: its outcome is terminate or continue_contract"
        ]
    return errors


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
    currency = _currency_of(terms, contract)
    claimed = Decimal(v.get("claimed_damages") or "0")
    cap = terms.breach_liability.liability_cap if terms.breach_liability else None
    amount = claimed if payer != "none" else Decimal("0")
    if cap is not None and amount > cap.amount:
        amount = cap.amount
    basis = compensation_basis(terms, payer)
    if cap is not None and claimed > cap.amount and payer != "none":
        basis += f" (claimed {claimed:,.2f} capped at the liability cap {cap.amount:,.2f})"
    return {
        "notice_period_days": notice_days,
        "earliest_effective_date": earliest.isoformat(),
        "effective_date": effective.isoformat(),
        # Midnight of the effective date where the contract is (its own timezone).
        "notice_ends_at": dt.datetime.combine(
            effective, dt.time(0), ZoneInfo(terms.timezone)
        ).isoformat(),
        "compensation": {
            "payer": payer,
            "payee": payee,
            "amount": {"amount": f"{amount:.2f}", "currency": currency},
            "basis": basis,
        },
    }


def _currency_of(terms: Any, contract: SignedContract | None) -> str:
    """The contract's own currency: its fee terms', else its signed total's."""
    if terms.fees and terms.fees.currency:
        return str(terms.fees.currency)
    if contract is not None and contract.currency:
        return str(contract.currency)
    raise ValueError("the contract names no currency (fee terms or signed total)")


def approval_request(call: ServiceCall) -> dict[str, Any]:
    v, a = call.variables, call.variables["assessment"]
    names = names_of(call.step.session, v["contract_id"], v["current_terms"])
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
        "provider": names["provider"],
        "title": names["title"],
        "reason": v["reason"],
        "changes": [
            f"通知期 notice period: {a['notice_period_days']} days",
            f"赔偿 compensation: {a['compensation']['payer']} → {a['compensation']['payee']} "
            f"{money['amount']} {money['currency']}",
        ],
        "texts": termination_texts(v["grounds"], a),
    }


def record_dispute(call: ServiceCall) -> list[dict[str, Any]]:
    v, session = call.variables, call.step.session
    # The task API refuses these up front; a completion from elsewhere is an incident here.
    problems = dispute_stage_problems(
        list(v.get("disputes") or []), v["dispute_stage"], v["dispute_outcome"]
    )
    if problems:
        raise ValueError(f"dispute stage of {v['request_id']}: {problems}")
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
