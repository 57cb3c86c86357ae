"""The services' HTTP APIs as the demo's people call them: tasks found and completed,
states waited for, requests filed. Every wait has a deadline and names what it waited for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contractflow.demo.people import REQUESTER, DemoFailed
from contractflow.demo.stack import Api, Stack, wait_for

REVIEWERS = {"legal": "legal.chen", "technical": "tech.zhou", "finance": "fin.sun"}
OWNER = "li.min"  # the renewal manager who looks after the signed contracts


class ServiceCalls:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.negotiation = {
            "manager": stack.api("negotiation", REQUESTER, "contract-manager"),
            **{role: stack.api("negotiation", who, role) for role, who in REVIEWERS.items()},
        }
        self.approval_admin = stack.api(
            "approval", "admin.demo", "approval-admin", "workflow-admin"
        )
        self.requester = stack.api("approval", REQUESTER, "contract-manager")
        self.renewal = stack.api("renewal", OWNER, "renewal-manager")
        self.contract_id = ""

    def negotiation_task(self, element: str) -> dict[str, Any]:
        path = f"/contracts/{self.contract_id}/tasks"
        return wait_for(
            f"negotiation task {element} of {self.contract_id}",
            lambda: next(
                (
                    t
                    for t in self.negotiation["manager"].get(path)["tasks"]
                    if t["element_id"] == element
                ),
                None,
            ),
        )

    def complete_negotiation(self, element: str, who: str, form: dict[str, Any]) -> None:
        task = self.negotiation_task(element)
        path = f"/workflow/tasks/{task['id']}/complete"
        self.negotiation[who].ok("POST", path, json={"data": form})

    def negotiation_status(self, status: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        def reached() -> dict[str, Any] | None:
            seen.update(self.negotiation["manager"].get(f"/contracts/{self.contract_id}"))
            return dict(seen) if seen["status"] == status else None

        try:
            return wait_for(f"contract {self.contract_id} {status}", reached, 90)
        except DemoFailed:
            raise DemoFailed(
                f"contract {self.contract_id} still {seen.get('status')!r}, not {status!r}; "
                f"workflow: {seen.get('workflow')}"
            ) from None

    def complete_approval(self, instance_id: str, element: str, form: dict[str, Any]) -> None:
        self._complete(self.requester, f"instance_id={instance_id}", "element_id", element, form)

    def complete_renewal(self, form_key: str, form: dict[str, Any]) -> None:
        self._complete(self.renewal, f"contract_id={self.contract_id}", "form_key", form_key, form)

    def _complete(self, api: Api, query: str, key: str, value: str, form: dict) -> None:
        task = wait_for(
            f"task {value} ({query})",
            lambda: next(
                (t for t in api.get(f"/workflow/tasks?{query}")["tasks"] if t[key] == value), None
            ),
            90,
        )
        api.ok("POST", f"/workflow/tasks/{task['id']}/complete", json={"data": form})

    def asking(self, request_id: str) -> dict[str, Any] | None:
        """The approval request once it is decided or has open tasks; None before."""
        state = self.approval_admin.found(f"/approval/requests/{request_id}")
        if state and (
            state["status"] != "pending" or any(t["status"] == "open" for t in state["tasks"])
        ):
            return state
        return None

    def still_open(self, request_id: str, task_id: str) -> bool:
        state = self.approval_admin.get(f"/approval/requests/{request_id}")
        return any(t["task_id"] == task_id and t["status"] == "open" for t in state["tasks"])

    def file_change_request(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """Approval learns the signed terms from contract.signed on Kafka; until it has,
        a change request is refused naming them."""
        response = self.requester.call("POST", "/approval/change-requests", json=body)
        if response.status_code == 422 and "current_terms" in response.json().get("errors", {}):
            return None
        if response.status_code not in (200, 201):
            raise DemoFailed(f"change request refused ({response.status_code}): {response.text}")
        return response.json()

    def renewal_view(self, condition: Callable[[dict], bool]) -> dict[str, Any] | None:
        """Renewal's view of the contract once it satisfies `condition`."""
        contract = self.renewal.found(f"/contracts/{self.contract_id}")
        return contract if contract and condition(contract) else None

    def tender_draft(self, tender_id: str, ours: set[str]) -> dict[str, Any] | None:
        """Negotiation's draft opened for tender `tender_id`, once there is one."""
        manager = self.negotiation["manager"]
        for summary in manager.get("/contracts?limit=100")["contracts"]:
            if summary["contract_id"] in ours:
                continue
            draft = manager.get(f"/contracts/{summary['contract_id']}")
            if draft.get("tender_id") == tender_id:
                return draft
        return None
