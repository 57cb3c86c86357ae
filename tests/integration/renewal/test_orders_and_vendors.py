"""Purchase orders and provider master data from the ERP: a PO linked to its contract (a
task when its amount differs from the total), a provider licence ending during a running
contract (a task, once); early POs held, repeats and stale updates ignored, conflicts
dead-lettered with the reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.conftest import both_databases
from tests.integration.renewal.support import (
    OWNER_EMAIL,
    RenewalWorld,
    amended_data,
    signed_data,
    text_of,
)
from tests.integration.renewal.test_decisions import answer_approval, decide, decision_task
from tests.integration.renewal.test_expiry_watch import at
from tests.integration.renewal.test_payments import tasks

PROVIDER = "91330106MA2B3C4D5E"  # the provider of support.signed_data


def po(contract_id: str, number: str, amount: str) -> dict[str, Any]:
    return {
        "po_number": number,
        "contract_id": contract_id,
        "amount": {"amount": amount, "currency": "CNY"},
        "created_at": "2027-01-05T11:00:00+08:00",
    }


def vendor(valid_until: str | None, updated_at: str) -> dict[str, Any]:
    return {
        "vendor_id": PROVIDER,
        "name": "杭州云维信息技术有限公司",
        "business_licence": {
            "name": "营业执照 business licence",
            "number": PROVIDER,
            "valid_until": valid_until,
        },
        "certifications": [{"name": "ISO/IEC 27001", "number": "C-1", "valid_until": None}],
        "updated_at": updated_at,
    }


def variables(world: RenewalWorld, task: dict[str, Any]) -> dict[str, Any]:
    """What the task shows its owner: its instance's variables."""
    path = f"/workflow/instances/{task['instance_id']}"
    return world.client.get(path, headers=world.token("ada", "workflow-admin")).get_json()[
        "variables"
    ]


def form_keys(world: RenewalWorld, contract_id: str) -> list[str]:
    return sorted(t["form_key"] for t in tasks(world, contract_id))


@both_databases
def test_a_po_for_the_total_is_linked_and_one_that_differs_opens_a_task(world):
    world.sign("C-PO-1", maintenance=False)
    world.send("erp.purchase_order.created.v1", po("C-PO-1", "PO-1", "170720.00"), "C-PO-1")
    world.pump()
    assert form_keys(world, "C-PO-1") == []
    world.send("erp.purchase_order.created.v1", po("C-PO-1", "PO-2", "150000.00"), "C-PO-1")
    [task] = world.pump_until(lambda: tasks(world, "C-PO-1"))
    assert task["form_key"] == "purchase_order_mismatch"
    shown = variables(world, task)
    assert (shown["po_number"], shown["difference"]) == ("PO-2", "-20720.00")


@both_databases
def test_a_po_before_the_signature_is_held_then_checked(world):
    world.send("erp.purchase_order.created.v1", po("C-PO-2", "PO-E", "1.00"), "C-PO-2")
    world.pump()
    assert world.contract("C-PO-2") == {}
    world.sign("C-PO-2", maintenance=False)
    assert world.pump_until(lambda: form_keys(world, "C-PO-2")) == ["purchase_order_mismatch"]
    assert world.dead_letters() == []


@both_databases
def test_a_repeated_po_is_ignored_and_a_conflicting_one_dead_lettered(world):
    world.sign("C-PO-3", maintenance=False)
    for _ in range(2):
        world.send("erp.purchase_order.created.v1", po("C-PO-3", "PO-3", "1.00"), "C-PO-3")
    world.pump_until(lambda: tasks(world, "C-PO-3"))
    world.send("erp.purchase_order.created.v1", po("C-PO-3", "PO-3", "2.00"), "C-PO-3")
    [letter] = world.pump_until(world.dead_letters)
    assert letter.header("dlq.reason") == "purchase-order-conflict"
    assert "PO-3" in letter.header("dlq.error") and "1.00" in letter.header("dlq.error")
    assert form_keys(world, "C-PO-3") == ["purchase_order_mismatch"], "one task, not two"


@both_databases
def test_a_licence_ending_during_the_contract_opens_a_task_once(world):
    world.sign("C-VEN-1", maintenance=False)  # runs to 2027-12-31
    world.send("erp.vendor.updated.v1", vendor("2028-06-30", "2027-01-05T09:00:00+08:00"), PROVIDER)
    world.pump()
    assert form_keys(world, "C-VEN-1") == [], "valid beyond the end"
    world.send("erp.vendor.updated.v1", vendor("2027-09-30", "2027-01-05T10:00:00+08:00"), PROVIDER)
    [task] = world.pump_until(lambda: tasks(world, "C-VEN-1"))
    assert task["form_key"] == "provider_licence_expiring"
    assert variables(world, task)["licence_valid_until"] == "2027-09-30"
    # The same master data again, and an older update arriving late: nothing new.
    world.send("erp.vendor.updated.v1", vendor("2027-09-30", "2027-01-05T10:00:00+08:00"), PROVIDER)
    world.send("erp.vendor.updated.v1", vendor("2026-01-01", "2027-01-04T10:00:00+08:00"), PROVIDER)
    world.pump()
    world.pump()
    assert form_keys(world, "C-VEN-1") == ["provider_licence_expiring"]
    assert world.dead_letters() == []


@both_databases
def test_a_contract_signed_with_a_provider_whose_licence_ends_first_opens_the_task(world):
    world.send("erp.vendor.updated.v1", vendor("2027-06-30", "2027-01-05T09:00:00+08:00"), PROVIDER)
    world.pump()
    world.sign("C-VEN-2", maintenance=False)
    assert world.pump_until(lambda: form_keys(world, "C-VEN-2")) == ["provider_licence_expiring"]


@both_databases
def test_a_renewed_contract_still_running_is_told_of_the_licence_until_its_end(world):
    world.sign("C-VEN-3", maintenance=False)  # runs to 2027-12-31
    renewing = signed_data(
        "C-VEN-3N", dt.date(2028, 1, 1), dt.date(2028, 12, 31), maintenance=False
    )
    renewing["renews_contract_id"] = "C-VEN-3"
    world.send("contract.signed.v1", renewing, "C-VEN-3N")
    world.pump_until(lambda: world.contract("C-VEN-3").get("status") == "renewed")
    world.send("erp.vendor.updated.v1", vendor("2027-09-30", "2027-01-05T10:00:00+08:00"), PROVIDER)
    world.pump_until(lambda: form_keys(world, "C-VEN-3N"))
    assert form_keys(world, "C-VEN-3") == ["provider_licence_expiring"], (
        "renewed, it still runs to 2027-12-31, past the licence"
    )
    # Past its end date the renewed contract runs no more: only its successor is told.
    world.advance_to(at("2028-01-05"))
    world.send("erp.vendor.updated.v1", vendor("2028-03-31", "2028-01-05T10:00:00+08:00"), PROVIDER)
    world.pump_until(lambda: len(form_keys(world, "C-VEN-3N")) == 2)
    assert form_keys(world, "C-VEN-3") == ["provider_licence_expiring"]


@both_databases
def test_an_extended_contract_is_checked_against_its_new_end_date(world):
    world.sign("C-VEN-4", maintenance=False)  # renews itself after 2027-12-01
    world.send("erp.vendor.updated.v1", vendor("2028-06-30", "2027-01-05T10:00:00+08:00"), PROVIDER)
    world.pump()
    assert licence_tasks(world, "C-VEN-4") == [], "valid beyond the end of the first term"
    world.advance_to(at("2027-12-02"))
    world.pump_until(lambda: world.events("contract.extended.v1"))
    assert world.contract("C-VEN-4")["end_date"] == "2028-12-31"
    [task] = world.pump_until(lambda: licence_tasks(world, "C-VEN-4"))
    assert variables(world, task)["end_date"] == "2028-12-31"


@both_databases
def test_a_temporary_extension_is_checked_against_its_new_end_date(world):
    world.sign("C-VEN-5", auto_renew=False, maintenance=False)
    world.send("erp.vendor.updated.v1", vendor("2028-01-31", "2027-01-05T10:00:00+08:00"), PROVIDER)
    world.advance_to(at("2027-10-02"))
    assert licence_tasks(world, "C-VEN-5") == []
    fee = {"amount": "42680.00", "currency": "CNY"}
    decide(
        world,
        decision_task(world, "C-VEN-5")["id"],
        choice="temporary_extension",
        until="2028-03-31",
        fee=fee,
    )
    [request] = world.pump_until(lambda: world.events("approval.requested.v1"))
    answer_approval(world, request, "approved")
    [task] = world.pump_until(lambda: licence_tasks(world, "C-VEN-5"))
    assert variables(world, task)["end_date"] == "2028-03-31"


def licence_tasks(world: RenewalWorld, contract_id: str) -> list[dict[str, Any]]:
    return [t for t in tasks(world, contract_id) if t["form_key"] == "provider_licence_expiring"]


def amend_total(world: RenewalWorld, contract_id: str, number: str, total: str) -> None:
    world.send(
        "contract.amended.v1",
        amended_data(contract_id, number, dt.date(2027, 12, 31), total),
        contract_id,
    )
    world.pump_until(lambda: number in world.contract(contract_id)["amendments"])


def instance(world: RenewalWorld, instance_id: str) -> dict[str, Any]:
    path = f"/workflow/instances/{instance_id}"
    return world.client.get(path, headers=world.token("ada", "workflow-admin")).get_json()


def po_matches(world: RenewalWorld, contract_id: str) -> dict[str, bool]:
    shown = world.client.get(f"/contracts/{contract_id}/payments", headers=world.token())
    return {p["po_number"]: p["matches_total"] for p in shown.get_json()["purchase_orders"]}


@both_databases
def test_an_amended_total_judges_the_linked_pos_again(world):
    world.sign("C-PO-5", maintenance=False)  # 170720.00 CNY
    world.send("erp.purchase_order.created.v1", po("C-PO-5", "PO-A", "150000.00"), "C-PO-5")
    world.send("erp.purchase_order.created.v1", po("C-PO-5", "PO-B", "170720.00"), "C-PO-5")
    [first] = world.pump_until(lambda: tasks(world, "C-PO-5"))
    assert variables(world, first)["po_number"] == "PO-A"

    # The amendment makes PO-A the total: its task is withdrawn, saying why; PO-B differs now.
    amend_total(world, "C-PO-5", "A-1", "150000.00")
    [second] = world.pump_until(lambda: tasks(world, "C-PO-5"))
    shown = variables(world, second)
    assert (shown["po_number"], shown["contract_total"], shown["difference"]) == (
        "PO-B",
        "150000.00 CNY",
        "20720.00",
    )
    withdrawn = instance(world, first["instance_id"])
    assert withdrawn["status"] == "cancelled"
    assert "A-1" in withdrawn["end_reason"] and "150000.00 CNY" in withdrawn["end_reason"]
    assert po_matches(world, "C-PO-5") == {"PO-A": True, "PO-B": False}

    # Another amendment leaving the total as it is: nothing is asked again.
    amend_total(world, "C-PO-5", "A-2", "150000.00")
    assert [t["id"] for t in tasks(world, "C-PO-5")] == [second["id"]]

    # A third total: both differ; PO-B's task for the old total gives way to the new one.
    amend_total(world, "C-PO-5", "A-3", "160000.00")
    now_open = world.pump_until(lambda: len(tasks(world, "C-PO-5")) == 2 and tasks(world, "C-PO-5"))
    assert sorted(
        (variables(world, t)["po_number"], variables(world, t)["difference"]) for t in now_open
    ) == [("PO-A", "-10000.00"), ("PO-B", "10720.00")]
    assert instance(world, second["instance_id"])["status"] == "cancelled"
    assert po_matches(world, "C-PO-5") == {"PO-A": False, "PO-B": False}
    assert world.dead_letters() == []


@both_databases
def test_a_po_mismatch_task_is_mailed_to_the_owner_once(world):
    world.sign("C-PO-6", maintenance=False)
    event = world.send("erp.purchase_order.created.v1", po("C-PO-6", "PO-6", "150000.00"), "C-PO-6")
    [task] = world.pump_until(lambda: tasks(world, "C-PO-6"))
    [mail] = world.pump_until(lambda: world.mailbox.to(OWNER_EMAIL))
    assert "采购订单" in mail["Subject"] and "PO-6" in mail["Subject"]
    body = text_of(mail)
    assert "150000.00 CNY" in body and "170720.00 CNY" in body and "-20720.00" in body
    assert f"http://renewal.test/workflow/tasks/{task['id']}" in body
    # The same record delivered again, and the ERP sending the PO again: no second mail.
    world.redeliver(event)
    world.send("erp.purchase_order.created.v1", po("C-PO-6", "PO-6", "150000.00"), "C-PO-6")
    for _ in range(3):
        world.pump()
    assert len(world.mailbox.to(OWNER_EMAIL)) == 1
    assert len(tasks(world, "C-PO-6")) == 1


@both_databases
def test_a_licence_task_is_mailed_in_the_owners_language_once(world):
    world.sign("C-VEN-6", maintenance=False)
    owner = {"owner_id": "wang.fang", "name": "Wang Fang", "email": "wf@corp.test"}
    owner["language"] = "en"
    assert (
        world.client.put("/contracts/C-VEN-6/owner", json=owner, headers=world.token()).status_code
        == 200
    )
    update = vendor("2027-09-30", "2027-01-05T10:00:00+08:00")
    event = world.send("erp.vendor.updated.v1", update, PROVIDER)
    [mail] = world.pump_until(lambda: world.mailbox.to("wf@corp.test"))
    assert mail["Subject"].startswith("[Provider licence expiring]")
    body = text_of(mail)
    assert "2027-09-30" in body and "2027-12-31" in body and "Dear Wang Fang" in body
    world.redeliver(event)
    world.send("erp.vendor.updated.v1", update, PROVIDER)
    for _ in range(3):
        world.pump()
    assert len(world.mailbox.to("wf@corp.test")) == 1
    assert world.mailbox.to(OWNER_EMAIL) == []
