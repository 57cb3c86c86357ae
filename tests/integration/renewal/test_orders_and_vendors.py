"""Purchase orders and provider master data from the ERP: a PO linked to its contract (a
task when its amount differs from the total), a provider licence ending during a running
contract (a task, once); early POs held, repeats and stale updates ignored, conflicts
dead-lettered with the reason."""

from __future__ import annotations

from typing import Any

from tests.conftest import both_databases
from tests.integration.renewal.support import RenewalWorld
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
