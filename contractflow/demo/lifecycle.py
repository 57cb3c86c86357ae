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
from contractflow.demo.calls import REVIEWERS, ServiceCalls
from contractflow.demo.events import EventLog
from contractflow.demo.narration import Narrator
from contractflow.demo.people import Approver, DemoFailed, Mailbox
from contractflow.demo.stack import Stack, wait_for
from contractflow.events.parties import parties_of


@dataclass(frozen=True)
class Plan:
    label: str
    auto_renew: bool
    lead_days: int  # business days from now to the contract's start: pre-signing takes some
    term_days: int


class ContractStory(ServiceCalls):
    def __init__(self, stack: Stack, events: EventLog, narrator: Narrator, plan: Plan) -> None:
        super().__init__(stack)
        self.events, self.narrator, self.plan = events, narrator, plan
        self.mailbox = Mailbox(stack.mail_dir)
        self.approver = Approver()
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
                lambda: self.asking(request_id),
                90,
            )
            if state["status"] != "pending":
                self.say(f"{what}: {state['status']} by approval request {request_id}")
                return state
            for task in [t for t in state["tasks"] if t["status"] == "open"]:
                if self.still_open(request_id, task["task_id"]):  # one may close the level
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
        wait_for(f"task {task_id} decided", lambda: not self.still_open(request_id, task_id))

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
        due = wait_for(
            f"{self.contract_id}: payment.due of the milestone after {paid['due_date']}",
            lambda: [
                d
                for d in self.events.find("payment.due.v1", self.contract_id)
                if d["due_date"] > paid["due_date"]
            ],
            60,
        )[0]
        self.event("erp.payment.recorded.v1", "the ERP pays it", due_date=due["due_date"])
        self.say(f"payment.due {due['due_date']} ({due['amount']['amount']}): the ERP paid it")

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
        change = wait_for("change request accepted", lambda: self.file_change_request(body))
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
            lambda: self.renewal_view(lambda c: c["end_date"] == extended["until"]),
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
            lambda: self.renewal_view(lambda c: c["status"] == "expired"),
        )
        if "negotiation" in parties_of("tender.requested").consumers:
            draft = wait_for(
                f"negotiation opens the draft of tender {tender['tender_id']}",
                lambda: self.tender_draft(tender["tender_id"], set(self.narrator.labels)),
            )
            self.say(
                f"negotiation opened draft {draft['contract_id']} for the re-tender "
                f"({draft['status']}, provider to be found)"
            )
        self.say(f"FINAL: handed over, re-tender {tender['tender_id']}, status {final['status']}")
