"""The running contract's payment schedule: payment.due once per milestone on its date
(several workers, amendments that move it), payments from the ERP adding up, overdue
milestones opening a task and publishing payment.overdue; early, repeated and unmatched
payments held, ignored or dead-lettered."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

from contractflow.events.envelope import CloudEvent
from tests.conftest import both_databases
from tests.integration.harness import MemoryBus
from tests.integration.renewal.support import (
    OWNER_EMAIL,
    RenewalWorld,
    amended_data,
    signed_data,
    terminated_data,
    text_of,
)
from tests.integration.renewal.test_expiry_watch import at

SCHEDULE = [("2027-01-01", "50000.00"), ("2027-04-01", "60000.00"), ("2027-07-01", "60720.00")]


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "CNY"}


def schedule(*milestones: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"due_date": day, "amount": money(amount), "description": f"第{n}期 instalment {n}"}
        for n, (day, amount) in enumerate(milestones, 1)
    ]


def sign_with_schedule(world: RenewalWorld, contract_id: str, *milestones) -> None:
    data = signed_data(contract_id, maintenance=False)
    data["payment_schedule"] = schedule(*(milestones or SCHEDULE))
    world.send("contract.signed.v1", data, contract_id)
    world.pump_until(lambda: world.contract(contract_id))


def payment(contract_id: str, due: str, amount: str, payment_id: str) -> dict[str, Any]:
    return {
        "payment_id": payment_id,
        "contract_id": contract_id,
        "due_date": due,
        "amount": money(amount),
        "paid_at": "2027-01-05T15:00:00+08:00",
        "po_number": None,
    }


def events(world: RenewalWorld, event_type: str) -> list[dict[str, Any]]:
    world.relay.relay_once()  # with what the last tick fired
    return world.events(event_type)


def due_dates(world: RenewalWorld, event_type: str = "payment.due.v1") -> list[str]:
    return [e["due_date"] for e in events(world, event_type)]


def tasks(world: RenewalWorld, contract_id: str) -> list[dict[str, Any]]:
    response = world.client.get(f"/workflow/tasks?contract_id={contract_id}", headers=world.token())
    return response.get_json()["tasks"]


@both_databases
def test_each_milestone_is_announced_once_on_its_date_and_an_amendment_moves_the_rest(world):
    sign_with_schedule(world, "C-PAY-1")
    # 2027-01-01 passed before the contract was signed on 01-05: it is due at once.
    assert world.pump_until(lambda: due_dates(world)) == ["2027-01-01"]
    [due] = events(world, "payment.due.v1")
    assert due["amount"] == money("50000.00") and due["outstanding"] == money("50000.00")
    world.advance_to(at("2027-03-31"))
    assert due_dates(world) == ["2027-01-01"], "nothing before its date"
    world.advance_to(at("2027-04-01"))
    world.advance_to(at("2027-04-02"))
    assert due_dates(world) == ["2027-01-01", "2027-04-01"]

    amended = amended_data("C-PAY-1", "A-1", dt.date(2027, 12, 31), "170720.00")
    amended["fee_schedule"] = [
        {**p, "kind": "periodic"} for p in schedule(*SCHEDULE[:2], ("2027-08-01", "60720.00"))
    ]
    world.send("contract.amended.v1", amended, "C-PAY-1")
    world.pump_until(lambda: world.contract("C-PAY-1")["amendments"] == ["A-1"])
    world.advance_to(at("2027-07-02"))
    assert due_dates(world) == ["2027-01-01", "2027-04-01"], "07-01 left the schedule"
    world.advance_to(at("2027-08-01"))
    assert due_dates(world) == ["2027-01-01", "2027-04-01", "2027-08-01"]
    # Signed again (a redelivery) and re-planned: nothing fires twice.
    world.advance_to(at("2027-08-03"))
    assert Counter(due_dates(world)) == Counter(["2027-01-01", "2027-04-01", "2027-08-01"])


@both_databases
def test_partial_payments_add_up_and_an_unpaid_milestone_becomes_overdue_with_a_task(world):
    sign_with_schedule(world, "C-PAY-2")
    world.send(
        "erp.payment.recorded.v1", payment("C-PAY-2", "2027-01-01", "20000.00", "P-1"), "C-PAY-2"
    )
    world.send(
        "erp.payment.recorded.v1", payment("C-PAY-2", "2027-01-01", "30000.00", "P-2"), "C-PAY-2"
    )
    world.send(
        "erp.payment.recorded.v1", payment("C-PAY-2", "2027-04-01", "10000.00", "P-3"), "C-PAY-2"
    )
    world.pump()
    shown = world.client.get("/contracts/C-PAY-2/payments", headers=world.token()).get_json()
    assert [
        (m["due_date"], m["paid_amount"], m["outstanding"], m["status"])
        for m in shown["milestones"]
    ] == [
        ("2027-01-01", "50000.00", "0.00", "paid"),
        ("2027-04-01", "10000.00", "50000.00", "open"),
        ("2027-07-01", "0.00", "60720.00", "open"),
    ]
    assert sorted(p["payment_id"] for p in shown["payments"]) == ["P-1", "P-2", "P-3"]
    unknown = world.client.get("/contracts/C-NONE/payments", headers=world.token())
    assert unknown.status_code == 404 and "C-NONE" in unknown.get_json()["detail"]
    # Five days' grace (RENEWAL_PAYMENT_GRACE_DAYS) from the signing: 01-01 is fully paid,
    # so only 04-01 can become overdue, the day after its grace.
    world.advance_to(at("2027-01-11"))
    world.advance_to(at("2027-04-06"))
    assert events(world, "payment.overdue.v1") == [], "still within the grace"
    world.advance_to(at("2027-04-07"))
    [overdue] = world.pump_until(lambda: events(world, "payment.overdue.v1"))
    assert overdue["due_date"] == "2027-04-01"
    assert (overdue["paid"], overdue["outstanding"]) == (money("10000.00"), money("50000.00"))
    assert overdue["owner"] == "it@mingde-trading.example.cn"
    [task] = tasks(world, "C-PAY-2")
    assert task["form_key"] == "payment_overdue" and task["id"] == overdue["task_id"]
    # ...and is mailed to the owner (zh, the default), once.
    [mail] = world.pump_until(lambda: world.mailbox.to(OWNER_EMAIL))
    assert "付款逾期" in mail["Subject"] and "2027-04-01" in mail["Subject"]
    body = text_of(mail)
    assert "未付 50000.00 CNY" in body and "已付 10000.00 CNY" in body
    assert f"http://renewal.test/workflow/tasks/{task['id']}" in body
    assert "http://renewal.test/contracts/C-PAY-2/payments" in body
    world.advance_to(at("2027-04-08"))
    assert len(world.mailbox.to(OWNER_EMAIL)) == 1
    # The owner follows it up through the inbox.
    response = world.client.post(
        f"/workflow/tasks/{task['id']}/complete",
        json={"data": {"outcome": "finance_chased", "note": "财务已催办"}},
        headers=world.token(),
    )
    assert response.status_code == 200, response.get_json()


@both_databases
def test_a_repeated_payment_counts_once(world):
    sign_with_schedule(world, "C-PAY-3")
    for _ in range(2):  # the same ERP payment in two events (the ERP replayed it)
        world.send(
            "erp.payment.recorded.v1",
            payment("C-PAY-3", "2027-01-01", "25000.00", "P-SAME"),
            "C-PAY-3",
        )
    world.advance_to(at("2027-01-11"))
    [overdue] = world.pump_until(lambda: events(world, "payment.overdue.v1"))
    assert overdue["paid"] == money("25000.00") and overdue["outstanding"] == money("25000.00")
    assert world.dead_letters() == []


@both_databases
def test_payments_before_the_signature_are_held_then_counted(world):
    world.send(
        "erp.payment.recorded.v1", payment("C-PAY-4", "2027-01-01", "50000.00", "P-E"), "C-PAY-4"
    )
    world.pump()
    assert world.contract("C-PAY-4") == {}
    sign_with_schedule(world, "C-PAY-4")
    world.advance_to(at("2027-01-11"))
    world.advance_to(at("2027-01-12"))
    assert events(world, "payment.overdue.v1") == [], "the early payment paid the milestone"
    assert world.dead_letters() == []


@both_databases
def test_a_payment_for_a_milestone_not_in_the_schedule_waits_for_the_amendment(world):
    sign_with_schedule(world, "C-PAY-5")
    world.send(
        "erp.payment.recorded.v1", payment("C-PAY-5", "2027-09-01", "1000.00", "P-X"), "C-PAY-5"
    )
    world.pump()
    amended = amended_data("C-PAY-5", "A-1", dt.date(2027, 12, 31), "171720.00")
    amended["fee_schedule"] = [
        {**p, "kind": "periodic"} for p in schedule(*SCHEDULE, ("2027-09-01", "1000.00"))
    ]
    world.send("contract.amended.v1", amended, "C-PAY-5")
    world.pump_until(lambda: world.contract("C-PAY-5")["amendments"] == ["A-1"])
    world.advance_to(at("2027-09-07"))
    overdue = {e["due_date"] for e in events(world, "payment.overdue.v1")}
    assert "2027-09-01" not in overdue and "2027-07-01" in overdue
    assert set(due_dates(world)) == {"2027-01-01", "2027-04-01", "2027-07-01"}, (
        "the paid 09-01 milestone is not announced"
    )


@both_databases
def test_a_payment_nobody_explains_goes_to_the_dead_letters_with_the_reason(world):
    world.send(
        "erp.payment.recorded.v1",
        payment("C-PAY-NEVER", "2027-01-01", "1.00", "P-N"),
        "C-PAY-NEVER",
    )
    world.pump()
    with world.kernel.sessions.begin() as session:
        assert world.runtime.expired_unmatched(session, world.now) == []
    with world.kernel.sessions.begin() as session:
        [held] = world.runtime.expired_unmatched(session, world.now + dt.timedelta(days=8))
    assert held.correlation_key == "C-PAY-NEVER"
    assert "erp.payment.recorded.v1" in held.reason
    assert held.payload["payment_id"] == "P-N"


@both_databases
def test_a_payment_still_unexplained_after_an_amendment_is_dead_lettered_as_itself(world):
    sign_with_schedule(world, "C-PAY-7")
    world.send(
        "erp.payment.recorded.v1", payment("C-PAY-7", "2027-10-01", "5.00", "P-L"), "C-PAY-7"
    )
    world.pump()
    amended = amended_data("C-PAY-7", "A-1", dt.date(2027, 12, 31), "170720.00")
    amended["fee_schedule"] = [{**p, "kind": "periodic"} for p in schedule(*SCHEDULE)]
    world.send("contract.amended.v1", amended, "C-PAY-7")
    world.pump_until(lambda: world.contract("C-PAY-7")["amendments"] == ["A-1"])
    with world.kernel.sessions.begin() as session:
        [held] = world.runtime.expired_unmatched(session, world.now + dt.timedelta(days=8))
    # Still the payment, with the record that carried it (not the amendment that looked).
    assert held.payload["payment_id"] == "P-L"
    assert held.origin is not None
    assert CloudEvent.from_json(held.origin.value).type == "erp.payment.recorded.v1"


@both_databases
def test_a_payment_in_another_currency_is_dead_lettered_at_once_naming_both(world):
    sign_with_schedule(world, "C-PAY-6")
    data = payment("C-PAY-6", "2027-01-01", "100.00", "P-USD")
    data["amount"]["currency"] = "USD"
    world.send("erp.payment.recorded.v1", data, "C-PAY-6")
    [letter] = world.pump_until(world.dead_letters)
    assert letter.header("dlq.reason") == "payment-currency-mismatch"
    assert "USD" in letter.header("dlq.error") and "CNY" in letter.header("dlq.error")


@both_databases
def test_two_workers_ticking_at_once_announce_each_milestone_once(
    world, database_factory, topic_prefix
):
    ids = [f"C-PAY-R{n:02}" for n in range(15)]
    for contract_id in ids:
        data = signed_data(contract_id, maintenance=False)
        data["payment_schedule"] = schedule(("2027-04-01", "1.00"), ("2027-04-01", "2.00"))
        world.send("contract.signed.v1", data, contract_id)
    world.pump_until(
        lambda: (
            len(world.client.get("/contracts?limit=100", headers=world.token()).get_json()["items"])
            == 15
        )
    )
    other = RenewalWorld(
        database_factory, topic_prefix, MemoryBus(), database_url=world.database_url
    )
    try:
        start = threading.Barrier(2)

        def tick(watch) -> None:
            start.wait()
            watch.tick(at("2027-04-01"))

        threads = [threading.Thread(target=tick, args=(w.watch,)) for w in (world, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        world.pump()
        other.relay.relay_once()
        announced = Counter(e["contract_id"] for e in events(world, "payment.due.v1"))
        assert announced == Counter({contract_id: 1 for contract_id in ids})
        # Two payments on one date are one milestone of their sum.
        assert {e["amount"]["amount"] for e in events(world, "payment.due.v1")} == {"3.00"}
    finally:
        other.close()


@both_databases
def test_a_terminated_contract_is_owed_what_fell_due_before_the_end_and_nothing_after(world):
    sign_with_schedule(world, "C-PAY-T")  # 01-01, 04-01, 07-01
    world.pump_until(lambda: due_dates(world) == ["2027-01-01"])
    world.advance_to(at("2027-03-20"))
    ended = terminated_data("C-PAY-T", effective="2027-05-15")
    ended["notice_given_on"] = "2027-03-15"
    ended["compensation"]["amount"] = money("8000.00")
    ended["settlement"] = {"payer": "user", "amount": money("12000.00"), "note": "结清 settled"}
    world.send("contract.terminated.v1", ended, "C-PAY-T")
    world.pump_until(lambda: world.contract("C-PAY-T").get("status") == "terminated")
    shown = world.client.get("/contracts/C-PAY-T/payments", headers=world.token()).get_json()
    assert [(m["due_date"], m["status"], m["outstanding"]) for m in shown["milestones"]] == [
        ("2027-01-01", "open", "50000.00"),
        ("2027-04-01", "open", "60000.00"),
        ("2027-07-01", "cancelled", "0.00"),
    ], "owed up to the effective date, cancelled after it"
    assert shown["termination"]["effective_date"] == "2027-05-15"
    assert shown["termination"]["compensation"]["amount"] == money("8000.00")
    assert shown["termination"]["settlement"] == {
        "payer": "user",
        "amount": money("12000.00"),
        "note": "结清 settled",
    }

    # 04-01 lies before the effective date: it is still announced, and chased when unpaid.
    world.advance_to(at("2027-04-01"))
    assert due_dates(world) == ["2027-01-01", "2027-04-01"]
    world.advance_to(at("2027-04-07"))
    overdue = world.pump_until(lambda: events(world, "payment.overdue.v1"))
    assert {e["due_date"] for e in overdue} >= {"2027-04-01"}
    assert "payment_overdue" in {t["form_key"] for t in tasks(world, "C-PAY-T")}
    world.advance_to(at("2027-07-02"))
    world.advance_to(at("2027-07-08"))
    assert due_dates(world) == ["2027-01-01", "2027-04-01"], "07-01 is after the end"
    assert "2027-07-01" not in {e["due_date"] for e in events(world, "payment.overdue.v1")}
