"""A terminated contract's owner tasks about the ERP's facts: the difference of a PO from
the total and a provider licence that outlasts the new end are moot, so their tasks are
withdrawn saying why; a licence ending before the effective date, and a milestone still
owed and overdue, stay open."""

from __future__ import annotations

from tests.conftest import both_databases
from tests.integration.renewal.support import terminated_data
from tests.integration.renewal.test_expiry_watch import at
from tests.integration.renewal.test_orders_and_vendors import PROVIDER, instance, po, vendor
from tests.integration.renewal.test_payments import sign_with_schedule, tasks

ERP_TASKS = ("purchase_order_mismatch", "provider_licence_expiring", "payment_overdue")


def open_forms(world, contract_id: str) -> list[str]:
    """The form keys of the contract's open ERP owner tasks (a termination also opens its
    handover's, which are not about the ERP)."""
    return sorted(t["form_key"] for t in tasks(world, contract_id) if t["form_key"] in ERP_TASKS)


def instance_of(world, contract_id: str, form_key: str) -> str:
    [task] = [t for t in tasks(world, contract_id) if t["form_key"] == form_key]
    return task["instance_id"]


def terminate(world, contract_id: str, effective: str) -> None:
    ended = terminated_data(contract_id, effective=effective)
    ended["notice_given_on"] = "2027-04-08"
    world.send("contract.terminated.v1", ended, contract_id)
    world.pump_until(lambda: world.contract(contract_id).get("status") == "terminated")


@both_databases
def test_a_termination_withdraws_the_moot_erp_tasks_and_keeps_what_is_owed(world):
    sign_with_schedule(world, "C-END-1")  # milestones 01-01, 04-01, 07-01; runs to 12-31
    world.sign("C-END-2", maintenance=False)
    world.send("erp.purchase_order.created.v1", po("C-END-1", "PO-X", "150000.00"), "C-END-1")
    world.send("erp.vendor.updated.v1", vendor("2027-09-30", "2027-01-05T10:00:00+08:00"), PROVIDER)
    world.pump_until(
        lambda: len(open_forms(world, "C-END-1")) == 2 and open_forms(world, "C-END-2")
    )
    po_instance = instance_of(world, "C-END-1", "purchase_order_mismatch")
    licence_instance = instance_of(world, "C-END-1", "provider_licence_expiring")
    world.advance_to(at("2027-04-07"))  # 01-01 and 04-01 unpaid: overdue, and owed
    owed = ["payment_overdue", "payment_overdue"]
    world.pump_until(lambda: open_forms(world, "C-END-1").count("payment_overdue") == 2)
    assert open_forms(world, "C-END-1") == [
        *owed,
        "provider_licence_expiring",
        "purchase_order_mismatch",
    ]

    terminate(world, "C-END-1", "2027-06-30")  # the licence (09-30) outlasts it
    terminate(world, "C-END-2", "2027-10-31")  # the licence ends first still
    world.pump_until(lambda: open_forms(world, "C-END-1") == owed)
    po_task = instance(world, po_instance)
    assert po_task["status"] == "cancelled"
    assert po_task["end_reason"] == (
        "contract terminated on 2027-06-30: the difference of purchase order PO-X "
        "(150000.00 CNY) from the contract total is moot"
    )
    licence_task = instance(world, licence_instance)
    assert licence_task["status"] == "cancelled"
    assert licence_task["end_reason"] == (
        "contract terminated on 2027-06-30: the provider's licence, valid until 2027-09-30, "
        "outlasts the contract"
    )
    assert open_forms(world, "C-END-2") == ["provider_licence_expiring"]

    # The termination again, and a PO the ERP opens afterwards: nothing is asked.
    terminate(world, "C-END-1", "2027-06-30")
    world.send("erp.purchase_order.created.v1", po("C-END-1", "PO-Y", "1.00"), "C-END-1")
    world.pump()
    world.pump()
    assert open_forms(world, "C-END-1") == owed, "what fell due before the end is owed"
    shown = world.client.get("/contracts/C-END-1/payments", headers=world.token()).get_json()
    assert {p["po_number"] for p in shown["purchase_orders"]} == {"PO-X", "PO-Y"}, "linked"
    assert world.dead_letters() == []
