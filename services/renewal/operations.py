"""The renewal workflows' service tasks: each a thin call into a capability module, in the
transaction of the step that runs it."""

from __future__ import annotations

from typing import Any

from contractflow.workflow import ServiceCall, WorkflowRuntime
from services.renewal import objections


def record_reminder_outcome(call: ServiceCall) -> dict[str, Any]:
    """The owner answered a reminder: noted, or an objection to the automatic renewal
    (recorded only before the deadline; a refusal is answered, not raised)."""
    v = call.variables
    if v["outcome"] != "object_to_renewal":
        return {"outcome": "noted"}
    contract_id = call.step.contract_id
    if contract_id is None:
        raise ValueError(f"{call.element_id}: the reminder instance has no contract id")
    try:
        objections.record_objection(
            call.step.session, contract_id, by=call.step.actor, reason=v["note"], now=call.step.now
        )
    except objections.ObjectionRefused as exc:
        return {"outcome": "objection_refused", "why": str(exc)}
    return {"outcome": "objected"}


OPERATIONS = {"renewal.record_reminder_outcome": record_reminder_outcome}


def register_operations(runtime: WorkflowRuntime) -> None:
    for name, operation in OPERATIONS.items():
        runtime.service_tasks.register(name, operation)
