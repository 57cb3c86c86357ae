"""Approvers deciding an approval request by the links in their mails, level by level as
the approval service routes it. Who is asked comes from the service itself
(`GET /approval/requests/<id>`: its open tasks), the link from the mail that task sent."""

from __future__ import annotations

from typing import Any

from tests.e2e.deployed import Api, wait_for
from tests.e2e.lifecycle_data import address
from tests.e2e.mail_links import ApproverBrowser, MailServer, link_for_task


class Approvals:
    def __init__(self, admin: Api, mail: MailServer) -> None:
        self.admin, self.mail = admin, mail
        self.browser = ApproverBrowser()

    def state(self, request_id: str) -> dict[str, Any] | None:
        """The request as the approval service shows it; None until it has received it."""
        response = self.admin.call("GET", f"/approval/requests/{request_id}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.json()

    def waiting(self, request_id: str, what: str, deadline_s: float = 90) -> dict[str, Any]:
        """The request once it is decided or has open tasks (its current level's)."""
        seen: dict[str, Any] = {}

        def ready() -> dict[str, Any] | None:
            seen["state"] = state = self.state(request_id)
            if state is None:
                return None
            open_tasks = [t for t in state["tasks"] if t["status"] == "open"]
            return state if state["status"] != "pending" or open_tasks else None

        try:
            return wait_for(f"{what}: request {request_id} asks someone", ready, deadline_s)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; request: {seen.get('state')}") from None

    def decide_level(
        self, request_id: str, what: str, decision: str = "approved"
    ) -> list[tuple[int, str]]:
        """Each open task of the current level decided by its approver's link, as long as it
        stays open (one approval may end a level); answers (level, approver) of each."""
        state = self.waiting(request_id, what)
        assert state["status"] == "pending", f"{what}: request already {state['status']}: {state}"
        decided = []
        for task in [t for t in state["tasks"] if t["status"] == "open"]:
            now = {t["task_id"]: t for t in (self.state(request_id) or {"tasks": []})["tasks"]}
            if now[task["task_id"]]["status"] != "open":
                continue
            link = link_for_task(self.mail, address(task["person_id"]), task["task_id"])
            self.browser.decide(link, decision, f"{decision} by {task['person_id']} ({what})")
            decided.append((task["level"], task["person_id"]))
        return decided

    def approve(self, request_id: str, what: str) -> list[tuple[int, str]]:
        """Every level approved until the request is decided; answers who decided, in order."""
        decided: list[tuple[int, str]] = []
        while self.waiting(request_id, what)["status"] == "pending":
            decided += self.decide_level(request_id, what)
        return decided
