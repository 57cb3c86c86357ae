"""The renewal workflows' service tasks: each a thin call into a capability module, in the
transaction of the step that runs it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from contractflow.events.outbox import Outbox
from contractflow.workflow import ServiceCall, WorkflowRuntime
from contractflow.workflow.service_tasks import ServiceOperation
from services.renewal import decisions, handover, objections, supervision, vendor_licences
from services.renewal.contract_view import get_contract
from services.renewal.mails import RenewalMails
from services.renewal.models import WatchedContract
from services.renewal.request_texts import decision_texts
from services.renewal.settings import RenewalSettings


def _actor(call: ServiceCall) -> str:
    """Who took the step: the task's completer; steps run by the watch have none."""
    return call.step.actor or "renewal-watch"


def _contract(call: ServiceCall) -> WatchedContract:
    contract_id = call.step.contract_id
    if contract_id is None:
        raise ValueError(f"{call.element_id}: the instance has no contract id")
    return get_contract(call.step.session, contract_id, lock=True)


def record_reminder_outcome(call: ServiceCall) -> dict[str, Any]:
    """The owner answered a reminder: noted, or an objection to the automatic renewal
    (recorded only before the deadline; a refusal is answered, not raised)."""
    v = call.variables
    if v["outcome"] != "object_to_renewal":
        return {"outcome": "noted"}
    try:
        objections.record_objection(
            call.step.session,
            _contract(call).contract_id,
            by=_actor(call),
            reason=v["note"],
            now=call.step.now,
        )
    except objections.ObjectionRefused as exc:
        return {"outcome": "objection_refused", "why": str(exc)}
    return {"outcome": "objected"}


def evaluate_before_decision(outbox: Outbox, settings: RenewalSettings) -> ServiceOperation:
    def evaluate(call: ServiceCall) -> dict[str, Any]:
        """The owner decides with the provider's evaluation over the last half year."""
        contract = _contract(call)
        today = call.step.now.date()
        start = max(contract.start_date, today - dt.timedelta(days=30 * settings.evaluation_months))
        row = supervision.evaluate_contract(
            call.step.session, contract, start, max(start, today), call.step.now, outbox
        )
        return {"evaluation_id": row.evaluation_id, **row.result}

    return evaluate


def prepare_decision(public_url: str, settings: RenewalSettings) -> ServiceOperation:
    def prepare(call: ServiceCall) -> dict[str, Any]:
        """Price the decision; a renewal or extension above the threshold needs approval."""
        contract, v = _contract(call), call.variables
        cost = decisions.price(contract, v["choice"], v)
        continues = v["choice"] in (decisions.RENEW, decisions.TEMPORARY)
        if not continues or cost <= settings.approval_threshold:
            return {"needs_approval": False, "cost": str(cost), "approval_request": None}
        # The approvers read the request in their own language (zh or en), by name.
        texts = decision_texts(contract, v["choice"], v, cost)
        request: dict[str, Any] = {
            "request_id": f"AR-{uuid.uuid4().hex}",
            "contract_id": contract.contract_id,
            "kind": "renewal",
            "amount": str(cost),
            "currency": contract.currency,
            "risk": "medium" if cost > contract.total_amount else "low",
            "requester": _actor(call),
            "summary": f"{contract.title}: {texts['en']['summary']}",
            "subject_url": f"{public_url}/contracts/{contract.contract_id}",
            "provider": contract.provider_name,
            "reason": v.get("note") or None,
            "changes": texts["en"]["changes"],
            "title": contract.title,
            "texts": texts,
        }
        return {"needs_approval": True, "cost": str(cost), "approval_request": request}

    return prepare


def apply_decision(
    runtime: WorkflowRuntime, outbox: Outbox, settings: RenewalSettings, mails: RenewalMails
) -> ServiceOperation:
    def apply(call: ServiceCall) -> dict[str, Any]:
        v = call.variables
        approval = v.get("approval") or {}
        contract = _contract(call)
        applied = decisions.apply(
            call.step.session,
            contract,
            v["choice"],
            v,
            approval.get("request_id"),
            call.step.now,
            outbox,
            settings,
        )
        # Renewed or extended: the new end may lie past the provider's licence.
        vendor_licences.check_contract(call.step.session, runtime, contract, call.step.now, mails)
        return applied

    return apply


def request_tender(outbox: Outbox) -> ServiceOperation:
    def tender(call: ServiceCall) -> dict[str, Any]:
        reason = call.variables.get("note") or "renegotiation at the end of the term"
        return decisions.request_tender(
            call.step.session, _contract(call), _actor(call), reason, outbox
        )

    return tender


def record_let_end(call: ServiceCall) -> dict[str, Any]:
    return decisions.let_end(call.step.session, _contract(call), call.step.now)


def request_new_provider(outbox: Outbox) -> ServiceOperation:
    def tender(call: ServiceCall) -> dict[str, Any]:
        return handover.request_new_provider(
            call.step.session, _contract(call), _actor(call), outbox
        )

    return tender


def complete_handover(outbox: Outbox) -> ServiceOperation:
    def complete(call: ServiceCall) -> dict[str, Any]:
        return handover.complete(
            call.step.session,
            _contract(call),
            call.variables,
            _actor(call),
            call.step.now,
            outbox,
        )

    return complete


def register_operations(
    runtime: WorkflowRuntime, outbox: Outbox, settings: RenewalSettings, mails: RenewalMails
) -> None:
    operations: dict[str, ServiceOperation] = {
        "renewal.record_reminder_outcome": record_reminder_outcome,
        "renewal.evaluate_before_decision": evaluate_before_decision(outbox, settings),
        "renewal.prepare_decision": prepare_decision(settings.public_base_url, settings),
        "renewal.apply_decision": apply_decision(runtime, outbox, settings, mails),
        "renewal.request_tender": request_tender(outbox),
        "renewal.record_let_end": record_let_end,
        "renewal.request_new_provider": request_new_provider(outbox),
        "renewal.complete_handover": complete_handover(outbox),
    }
    for name, operation in operations.items():
        runtime.service_tasks.register(name, operation)
