"""One demo contract's life, acted out as its people would, each step waited for with a
deadline: pre-signing with the three reviews, approval by the links in the mail, signing,
the ERP's purchase order and first payment, KPI reports, then either a change request and
the automatic extension (`extends`), or the decision to let it end and the handover with a
re-tender (`hands over`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from contractflow.demo import terms as demo_terms
from contractflow.demo.events import EventLog
from contractflow.demo.narration import Narrator
from contractflow.demo.people import REQUESTER, Approver, DemoFailed, Mailbox
from contractflow.demo.stack import Api, Stack, wait_for

REVIEWERS = {"legal": "legal.chen", "technical": "tech.zhou", "finance": "fin.sun"}
OWNER = "li.min"  # the renewal manager who looks after the signed contracts


@dataclass(frozen=True)
class Plan:
    label: str
    auto_renew: bool
    lead_days: int  # business days from now to the contract's start: pre-signing takes some
    term_days: int


class ContractStory:
    def __init__(self, stack: Stack, events: EventLog, narrator: Narrator, plan: Plan) -> None:
        self.stack, self.events, self.narrator, self.plan = stack, events, narrator, plan
        self.negotiation = {
            "manager": stack.api("negotiation", REQUESTER, "contract-manager"),
            **{role: stack.api("negotiation", who, role) for role, who in REVIEWERS.items()},
        }
        self.approval_admin = stack.api(
            "approval", "admin.demo", "approval-admin", "workflow-admin"
        )
        self.requester = stack.api("approval", REQUESTER, "contract-manager")
        self.renewal = stack.api("renewal", OWNER, "renewal-manager")
        self.mailbox = Mailbox(stack.mail_dir)
        self.approver = Approver()
        self.contract_id = ""
        self.awaiting: dict[str, Any] = {}  # negotiation's contract once it awaits approval
        self.signed: dict[str, Any] = {}

    # -- telling ------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.narrator.say(self.plan.label, text, self.contract_id or None)

    def event(self, event_type: str, what: str, deadline_s: float = 60, **match: Any) -> dict:
        return wait_for(
            f"{self.plan.label} {self.contract_id}: {what} ({event_type} on Kafka)",
            lambda: self.events.find(event_type, self.contract_id, **match),
            deadline_s,
        )[-1]

    # -- the story ----------------------------------------------------------------------------
    def live(self) -> None:
        self.pre_sign()
        self.approve(self.awaiting["approval_request_id"], "the contract")
        self.sign()
        self.erp_books_it()
        self.kpi_reports()
        if self.plan.auto_renew:
            self.change_request()
            self.reminders_evaluation_and_extension()
        else:
            self.let_it_end_and_hand_over()

    def pre_sign(self) -> None:
        start = self.stack.today() + dt.timedelta(days=self.plan.lead_days)
        title = f"明德 OA 运维合同 {self.plan.label} / OA operations ({self.plan.label})"
        terms = demo_terms.contract_terms(
            start, self.plan.term_days, auto_renew=self.plan.auto_renew, title=title
        )
        manager = self.negotiation["manager"]
        created = manager.ok("POST", "/contracts", expect=(201,), json={"terms": terms})
        self.contract_id = created["contract_id"]
        self.narrator.follow(self.contract_id, self.plan.label)
        self.say(
            f"requirement filed: {terms['service_term']['start_date']} to "
            f"{terms['service_term']['end_date']}, auto_renew={self.plan.auto_renew}"
        )
        need = {"need": "OA 系统运维 / OA operations", "budget": {"amount": demo_terms.BUDGET}}
        self.complete_negotiation("define_requirement", "manager", need)
        provider = terms["parties"]["provider"]["name"]
        self.complete_negotiation("research_provider", "manager", {"chosen_provider": provider})
        self.negotiation_task("draft_contract")
        manager.ok("POST", f"/contracts/{self.contract_id}/submit", json={"note": "ready"})
        self.say("drafted and submitted for review")
        for role in REVIEWERS:
            self.complete_negotiation(f"{role}_review", role, {"decision": "accept"})
            self.say(f"{role} review: accepted")
        self.awaiting = self.negotiation_status("awaiting_approval")

    def approve(self, request_id: str, what: str) -> dict[str, Any]:
        """Every level decided by its approver through the link in their mail, until the
        request is decided; answers the decided request."""
        while True:
            state = wait_for(
                f"{what}: approval request {request_id} asks someone",
                lambda: self._asking(request_id),
                90,
            )
            if state["status"] != "pending":
                self.say(f"{what}: {state['status']} by approval request {request_id}")
                return state
            for task in [t for t in state["tasks"] if t["status"] == "open"]:
                if self._still_open(request_id, task["task_id"]):  # one may close the level
                    self._decide_by_link(request_id, task, what)

    def _decide_by_link(self, request_id: str, task: dict[str, Any], what: str) -> None:
        person, task_id = task["person_id"], task["task_id"]
        link = wait_for(
            f"a mail to {person} with the link of task {task_id}",
            lambda: self.mailbox.decision_link(person, task_id),
            90,
        )
        self.approver.decide(link, "approved", f"同意 / approved ({what})")
        self.say(f"{what}: level {task['level']} approved by {person} via the mail link")
        wait_for(f"task {task_id} decided", lambda: not self._still_open(request_id, task_id))

    def sign(self) -> None:
        form = demo_terms.signing_form(self.stack.clock(), self.contract_id)
        self.complete_negotiation("sign_contract", "manager", form)
        self.signed = self.negotiation_status("signed")
        self.event("contract.signed.v1", "signed")
        self.say("signed by both parties")

    def erp_books_it(self) -> None:
        order = self.event("erp.purchase_order.created.v1", "the ERP's purchase order")
        paid = self.event("erp.payment.recorded.v1", "the ERP pays the first milestone")
        self.say(
            f"ERP booked the schedule: PO {order['po_number']}, first milestone "
            f"{paid['due_date']} paid {paid['amount']['amount']}"
        )

    def kpi_reports(self) -> None:
        """The provider's monitoring reports the first fortnight once it is over (before
        the first reminder, whose evaluation scores what has been reported)."""
        start = dt.date.fromisoformat(self.signed["terms"]["service_term"]["start_date"])
        period_end = start + dt.timedelta(days=13)
        wait_for(
            f"business date past {period_end} (the first KPI period)",
            lambda: self.stack.today() > period_end,
            90,
        )
        report = {
            "contract_id": self.contract_id,
            "period_start": start.isoformat(),
            "period_end": period_end.isoformat(),
            "availability_percent": "99.95",
            "mean_response_minutes": "12",
            "fault_fix_rate_percent": "99",
            "incidents": 1,
            "reported_by": "monitoring.demo",
        }
        self.events.publish("service.kpi.reported.v1", self.contract_id, report)
        wait_for(
            "renewal has the KPI report",
            lambda: self.renewal.get(f"/contracts/{self.contract_id}/kpi-reports").get("items"),
        )
        self.say(f"KPI report {start}..{period_end} arrived at renewal")

    # -- contract A: a change, then the automatic extension ---------------------------------
    def change_request(self) -> None:
        effective = self.stack.today() + dt.timedelta(days=30)
        body = {
            "contract_id": self.contract_id,
            "reason": "增加客户管理模块 / add a CRM module",
            "effective_date": effective.isoformat(),
            "changes": {"modules_added": ["CRM"]},
            "new_terms": demo_terms.with_module(self.signed["terms"], "CRM"),
            "risk": "low",
        }
        change = wait_for("change request accepted", lambda: self._filed(body))
        self.say(f"change request {change['request_id']} filed (add CRM from {effective})")
        self.approve(change["request_id"], "the change request")
        self.complete_approval(
            change["instance_id"],
            "sign_amendment",
            {
                "amendment_number": f"A-{self.contract_id}-1",
                "signed_on": self.stack.today().isoformat(),
                "signed_for_user": "明德贸易 王建国",
                "signed_for_provider": "杭州云维 陈思远",
            },
        )
        amended = self.event("contract.amended.v1", "amended", request_id=change["request_id"])
        self.say(
            f"amendment {amended['amendment_number']} signed: total now "
            f"{amended['total_after']['amount']}"
        )

    def reminders_evaluation_and_extension(self) -> None:
        self.event("contract.expiring.v1", "the first expiry reminder", 90, deadline_kind="expiry")
        self.say("renewal reminder received (expiry)")
        evaluated = self.event("contract.evaluated.v1", "an evaluation", 90)
        self.say(f"evaluated: {evaluated['rating']} ({evaluated['total_score']})")
        extended = self.event("contract.extended.v1", "the automatic extension", 90)
        if extended["kind"] != "automatic":
            raise DemoFailed(f"{self.contract_id} extended but not automatically: {extended}")
        final = wait_for(
            "renewal shows the new term",
            lambda: self._renewal_view(lambda c: c["end_date"] == extended["until"]),
        )
        self.say(f"FINAL: extended automatically to {final['end_date']} (status {final['status']})")

    # -- contract B: let it end, hand it over, re-tender ------------------------------------
    def let_it_end_and_hand_over(self) -> None:
        self.event("contract.expiring.v1", "the first expiry reminder", 90, deadline_kind="expiry")
        self.say("renewal reminder received: the owner must decide")
        self.complete_renewal(
            "renewal_decision", {"choice": "let_end", "note": "换供应商 / re-tender"}
        )
        self.say("owner decided: let it end")
        today = self.stack.today().isoformat()
        steps: list[tuple[str, dict[str, Any]]] = [
            ("handover_notice", {"notice_sent_on": today, "notice_reference": "LTR-DEMO-1"}),
            (
                "data_export",
                {"record_count": 128_431, "sha256": "ab" * 32, "export_confirmed": True},
            ),
            (
                "handover_checklist",
                {
                    "documents_returned": True,
                    "credentials_revoked": True,
                    "software_deactivated": True,
                    "confidential_material": "destroyed",
                },
            ),
            (
                "fee_settlement",
                {
                    "payer": "user",
                    "settlement_amount": {"amount": "0.00", "currency": "CNY"},
                    "retender_new_provider": True,
                },
            ),
        ]
        for form_key, data in steps:
            self.complete_renewal(form_key, data)
            self.say(f"handover step done: {form_key}")
        tender = self.event("tender.requested.v1", "the re-tender", kind="new_provider")
        done = self.event("contract.handover.completed.v1", "the handover")
        if done.get("tender_id") != tender["tender_id"]:
            raise DemoFailed(f"handover {done} does not name the tender {tender}")
        self.event("contract.expired.v1", "the end of the contract")
        final = wait_for(
            "renewal shows it expired",
            lambda: self._renewal_view(lambda c: c["status"] == "expired"),
        )
        self.say(f"FINAL: handed over, re-tender {tender['tender_id']}, status {final['status']}")

    # -- the services' APIs -------------------------------------------------------------------
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

    def _asking(self, request_id: str) -> dict[str, Any] | None:
        """The approval request once it is decided or has open tasks; None before."""
        response = self.approval_admin.call("GET", f"/approval/requests/{request_id}")
        if response.status_code == 404:
            return None
        state = self.approval_admin.ok("GET", f"/approval/requests/{request_id}")
        if state["status"] != "pending" or any(t["status"] == "open" for t in state["tasks"]):
            return state
        return None

    def _still_open(self, request_id: str, task_id: str) -> bool:
        state = self.approval_admin.get(f"/approval/requests/{request_id}")
        return any(t["task_id"] == task_id and t["status"] == "open" for t in state["tasks"])

    def _filed(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """Approval learns the signed terms from contract.signed on Kafka; until it has,
        a change request is refused naming them."""
        response = self.requester.call("POST", "/approval/change-requests", json=body)
        if response.status_code == 422 and "current_terms" in response.json().get("errors", {}):
            return None
        if response.status_code not in (200, 201):
            raise DemoFailed(f"change request refused ({response.status_code}): {response.text}")
        return response.json()

    def _renewal_view(self, condition: Any) -> dict[str, Any] | None:
        response = self.renewal.call("GET", f"/contracts/{self.contract_id}")
        if response.status_code == 404:
            return None
        contract = self.renewal.ok("GET", f"/contracts/{self.contract_id}")
        return contract if condition(contract) else None
