"""What happens at expiry, with a fake clock: automatic extension, an objection leading to
a decision, renewal through approval (and a rejection back to the decision), temporary
extension, renegotiation. Steps are taken by fresh processes (new runtime, parsed again)."""

from __future__ import annotations

from typing import Any

from tests.conftest import both_databases
from tests.integration.renewal.support import OWNER_EMAIL, RenewalWorld
from tests.integration.renewal.test_expiry_watch import at
from tests.language_checks import english_in

ADMIN = ("boss", "workflow-admin")


def texts_of(request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The request's zh and en texts; the zh ones carry no English phrase or code."""
    zh, en = request["texts"]["zh"], request["texts"]["en"]
    assert english_in("\n".join([zh["summary"], *zh["changes"]])) == [], zh
    return zh, en


def decision_task(world: RenewalWorld, contract_id: str) -> dict[str, Any]:
    def found():
        tasks = world.client.get(
            f"/workflow/tasks?contract_id={contract_id}", headers=world.token()
        ).get_json()["tasks"]
        return next((t for t in tasks if t["form_key"] == "renewal_decision"), None)

    return world.pump_until(found)


def decide(world: RenewalWorld, task_id: str, **data: Any) -> dict[str, Any]:
    response = world.client.post(
        f"/workflow/tasks/{task_id}/complete", json={"data": data}, headers=world.token()
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def answer_approval(world: RenewalWorld, request: dict[str, Any], outcome: str) -> None:
    """Publish approval.decided as the approval service would."""
    world.send(
        "approval.decided.v1",
        {
            "request_id": request["request_id"],
            "contract_id": request["contract_id"],
            "outcome": outcome,
            "decisions": [
                {
                    "level": 1,
                    "approver": "fd",
                    "decision": outcome,
                    "comment": "太贵" if outcome == "rejected" else "同意",
                    "decided_at": world.now.isoformat(),
                }
            ],
            "decided_at": world.now.isoformat(),
        },
        request["contract_id"],
    )


class Processes:
    """Each step in a fresh process: a new service on the same database and bus."""

    def __init__(self, first: RenewalWorld, database_factory, topic_prefix) -> None:
        self.first, self.factory, self.prefix = first, database_factory, topic_prefix
        self.bus = first.bus
        self.worlds = [first]

    def fresh(self) -> RenewalWorld:
        world = RenewalWorld(
            self.factory, self.prefix, self.bus, database_url=self.first.database_url
        )
        world.now = self.worlds[-1].now
        # One worker's relay (it holds the outbox lease) and consumer group member; the
        # fresh process's own web and runtime take the steps.
        world.relay, world.consumer = self.first.relay, self.first.consumer
        self.worlds.append(world)
        return world

    def close(self) -> None:
        for world in self.worlds[1:]:
            world.close()


@both_databases
def test_without_an_objection_the_contract_extends_itself_on_the_deadline(world):
    world.sign("C-DEC-AUTO", maintenance=False)
    world.advance_to(at("2027-12-01", 23, 59))
    assert world.events("contract.extended.v1") == []
    world.advance_to(at("2027-12-02"))
    [extended] = world.pump_until(lambda: world.events("contract.extended.v1"))
    assert extended["kind"] == "automatic"
    assert (extended["previous_end_date"], extended["until"]) == ("2027-12-31", "2028-12-31")
    assert extended["fee"] == {"amount": "170720.00", "currency": "CNY"}
    contract = world.contract("C-DEC-AUTO")
    assert (contract["start_date"], contract["end_date"]) == ("2028-01-01", "2028-12-31")
    assert contract["objection_deadline"] == "2028-12-01"
    week = world.client.get("/deadlines?day=2028-10-02", headers=world.token()).get_json()
    assert [d["kind"] for d in week["items"]] == ["expiry"], "the new term's reminders"


@both_databases
def test_an_objection_asks_for_a_decision_and_a_renewal_goes_through_approval(
    world, database_factory, topic_prefix
):
    processes = Processes(world, database_factory, topic_prefix)
    try:
        world.sign("C-DEC-RENEW", maintenance=False)
        world.now = at("2027-11-20")
        objection = world.client.post(
            "/contracts/C-DEC-RENEW/objection",
            json={"reason": "重新议价 / renegotiate the price"},
            headers=world.token(),
        )
        assert objection.status_code == 200
        world.advance_to(at("2027-12-02"))
        assert world.events("contract.extended.v1") == [], "the objection stopped it"
        task = decision_task(world, "C-DEC-RENEW")
        evaluations = world.client.get(
            "/contracts/C-DEC-RENEW/evaluations", headers=world.token()
        ).get_json()["items"]
        assert evaluations, "the decision is taken with an evaluation"

        step = processes.fresh()
        decide(step, task["id"], choice="renew_same_terms", index_percent="3", note="CPI 3%")
        [request] = step.pump_until(lambda: step.events("approval.requested.v1"))
        assert (request["kind"], request["amount"], request["currency"]) == (
            "renewal",
            "175841.60",  # 170720.00 * 1.03
            "CNY",
        )
        zh, en = texts_of(request)
        assert zh == {
            "summary": "按原条件续签，新期限 2028-01-01 至 2028-12-31",
            "changes": [
                "续约方式：按原条件续签",
                "新服务期限：2028-01-01 至 2028-12-31",
                "新合同总额：175,841.60 CNY（现为 170,720.00 CNY）",
                "价格指数调整：+3%",
            ],
        }
        assert en["summary"] == "renewal on the same terms, new term 2028-01-01 to 2028-12-31"
        assert "new total: 175,841.60 CNY (now 170,720.00 CNY)" in en["changes"]
        assert "renew_same_terms" not in request["summary"], "a name, not the code"
        answer_approval(processes.fresh(), request, "rejected")
        again = decision_task(processes.fresh(), "C-DEC-RENEW")
        assert again["id"] != task["id"], "a rejection returns to the decision"

        step = processes.fresh()
        decide(step, again["id"], choice="renew_same_terms", index_percent="0")
        second = step.pump_until(
            lambda: [r for r in step.events("approval.requested.v1") if r != request]
        )[0]
        assert second["amount"] == "170720.00"
        answer_approval(processes.fresh(), second, "approved")
        last = processes.fresh()
        [renewed] = last.pump_until(lambda: last.events("contract.renewed.v1"))
        assert (renewed["start_date"], renewed["end_date"]) == ("2028-01-01", "2028-12-31")
        assert renewed["approval_request_id"] == second["request_id"]
        contract = last.contract("C-DEC-RENEW")
        assert (contract["end_date"], contract["total_amount"]) == ("2028-12-31", "170720.00")
        assert contract["objected_at"] is None, "the objection belonged to the old term"
    finally:
        processes.close()


@both_databases
def test_a_contract_that_does_not_renew_itself_gets_a_temporary_extension(world):
    world.sign("C-DEC-TEMP", auto_renew=False, maintenance=False)
    world.advance_to(at("2027-10-02"))
    task = decision_task(world, "C-DEC-TEMP")
    refused = world.client.post(
        f"/workflow/tasks/{task['id']}/complete",
        json={"data": {"choice": "temporary_extension"}},
        headers=world.token(),
    )
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"until", "fee"}
    decide(
        world,
        task["id"],
        choice="temporary_extension",
        until="2028-03-31",
        fee={"amount": "42680.00", "currency": "CNY"},
    )
    [request] = world.pump_until(lambda: world.events("approval.requested.v1"))
    assert (request["kind"], request["amount"]) == ("renewal", "42680.00")
    zh, en = texts_of(request)
    assert zh == {
        "summary": "临时延期至 2028-03-31",
        "changes": [
            "续约方式：临时延期",
            "延期期间：2028-01-01 至 2028-03-31",
            "延期费用：42,680.00 CNY",
        ],
    }
    assert en["changes"][0] == "kind: temporary extension"
    answer_approval(world, request, "approved")
    [extended] = world.pump_until(lambda: world.events("contract.extended.v1"))
    assert (extended["kind"], extended["until"]) == ("temporary", "2028-03-31")
    assert world.contract("C-DEC-TEMP")["end_date"] == "2028-03-31"


@both_databases
def test_renegotiation_asks_negotiation_for_a_draft_from_the_current_terms(world):
    world.sign("C-DEC-TENDER", auto_renew=False, maintenance=False)
    world.advance_to(at("2027-10-02"))
    task = decision_task(world, "C-DEC-TENDER")
    decide(world, task["id"], choice="renegotiate", note="扩大服务范围")
    [tender] = world.pump_until(lambda: world.events("tender.requested.v1"))
    assert (tender["kind"], tender["needed_from"], tender["reason"]) == (
        "renewal",
        "2028-01-01",
        "扩大服务范围",
    )
    assert tender["current_terms"]["service_term"]["end_date"] == "2027-12-31"
    assert world.events("approval.requested.v1") == []
    assert world.contract("C-DEC-TENDER")["end_decision"] == "renegotiate"


def open_task(world: RenewalWorld, contract_id: str, form_key: str) -> dict[str, Any]:
    def found():
        tasks = world.client.get(
            f"/workflow/tasks?contract_id={contract_id}", headers=world.token()
        ).get_json()["tasks"]
        return next((t for t in tasks if t["form_key"] == form_key), None)

    return world.pump_until(found)


HANDOVER_STEPS = [
    ("handover_notice", {"notice_sent_on": "2027-10-10", "notice_reference": "LTR-2027-88"}),
    ("data_export", {"record_count": 128_431, "sha256": "ab" * 32, "export_confirmed": True}),
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
            "settlement_amount": {"amount": "14226.67", "currency": "CNY"},
            "retender_new_provider": True,
        },
    ),
]


@both_databases
def test_let_it_end_then_handover_with_a_re_tender(world, database_factory, topic_prefix):
    processes = Processes(world, database_factory, topic_prefix)
    try:
        world.sign("C-DEC-END", auto_renew=False, maintenance=False)
        world.advance_to(at("2027-10-02"))
        decide(world, decision_task(world, "C-DEC-END")["id"], choice="let_end")
        export = open_task(world, "C-DEC-END", "handover_notice")
        refused = world.client.post(
            f"/workflow/tasks/{export['id']}/complete",
            json={"data": {"notice_sent_on": "2027-10-10"}},
            headers=world.token(),
        )
        assert refused.status_code == 422 and "notice_reference" in refused.get_json()["errors"]
        for form_key, data in HANDOVER_STEPS:
            step = processes.fresh()
            if form_key == "data_export":
                unconfirmed = step.client.post(
                    f"/workflow/tasks/{open_task(step, 'C-DEC-END', form_key)['id']}/complete",
                    json={"data": {**data, "export_confirmed": False}},
                    headers=step.token(),
                )
                assert unconfirmed.status_code == 422
            decide(step, open_task(step, "C-DEC-END", form_key)["id"], **data)
        [done] = world.pump_until(lambda: world.events("contract.handover.completed.v1"))
        assert done["reason"] == "expiry"
        assert done["data_export"] == {
            "record_count": 128431,
            "sha256": "ab" * 32,
            "confirmed_by": "li.min",
        }
        assert done["checklist"]["confidential_material"] == "destroyed"
        [tender] = world.pump_until(lambda: world.events("tender.requested.v1"))
        assert (tender["kind"], tender["needed_from"]) == ("new_provider", "2028-01-01")
        assert done["tender_id"] == tender["tender_id"]
        [expired] = world.pump_until(lambda: world.events("contract.expired.v1"))
        assert (expired["end_date"], expired["reason"]) == ("2027-12-31", "expiry")
        assert world.contract("C-DEC-END")["status"] == "expired"
    finally:
        processes.close()


@both_databases
def test_a_terminated_contract_is_handed_over_by_the_same_workflow(world):
    from tests.integration.renewal.support import terminated_data

    world.sign("C-DEC-TERM", maintenance=False)
    terminated = terminated_data("C-DEC-TERM")
    terminated["settlement"] = {
        "payer": "user",
        "amount": {"amount": "20000.00", "currency": "CNY"},
        "note": "六月服务费",
    }
    world.send("contract.terminated.v1", terminated, "C-DEC-TERM")
    # The termination gave notice and settled the fees: the handover asks neither again.
    data_steps = [
        step for step in HANDOVER_STEPS if step[0] in ("data_export", "handover_checklist")
    ]
    for form_key, data in [*data_steps, ("retender_choice", {"retender_new_provider": False})]:
        decide(world, open_task(world, "C-DEC-TERM", form_key)["id"], **data)
    [done] = world.pump_until(lambda: world.events("contract.handover.completed.v1"))
    assert (done["reason"], done["notice_sent_on"]) == ("termination", "2027-05-31")
    assert done["settlement"] == {
        "payer": "user",
        "amount": {"amount": "20000.00", "currency": "CNY"},
        "note": "六月服务费",
    }
    [expired] = world.pump_until(lambda: world.events("contract.expired.v1"))
    assert (expired["end_date"], expired["reason"]) == ("2027-06-30", "termination")
    assert world.events("tender.requested.v1") == []
    forms = {
        t["form_key"]
        for t in world.client.get(
            "/workflow/tasks?contract_id=C-DEC-TERM&status=completed", headers=world.token()
        ).get_json()["tasks"]
    }
    assert not forms & {"handover_notice", "fee_settlement"}, forms
    # Each handover task is announced to the contract's owner, as approval's were.
    subjects = sorted(m["Subject"] for m in world.mailbox.to(OWNER_EMAIL))
    assert len([s for s in subjects if s.startswith(("[Task for you]", "【待办】"))]) == 3, subjects
