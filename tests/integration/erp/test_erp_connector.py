"""The reference ERP connector books contractflow's events into its ledger and answers with
purchase orders and payments, on SQLite and PostgreSQL; its operator commands refuse what
the ledger cannot take, saying why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from contractflow.db import unit_of_work
from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import OutboxMessage
from contractflow.events.rejection import EventRejected
from services.erp_connector import commands, ledger
from services.erp_connector.bootstrap import bootstrap
from services.erp_connector.models import LedgerContract, LedgerMilestone
from services.erp_connector.settings import ErpConnectorSettings
from tests.conftest import both_databases, service_settings
from tests.integration.harness import migrated_service, signed_event

pytestmark = both_databases
NOW = dt.datetime(2027, 1, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def connector(database_factory: Any) -> Any:
    url = database_factory("erp")
    kernel = migrated_service(
        lambda s: bootstrap(
            s, connector_settings=ErpConnectorSettings(auto_answer=True), clock=lambda: NOW
        ),
        service_settings("erp_connector", url, "test."),
    )
    kernel.url = url
    yield kernel
    kernel.close()


def deliver(kernel: Any, event: CloudEvent) -> None:
    with unit_of_work(kernel.sessions) as session:
        data = kernel.catalogue.load(event)  # what the consumer hands a handler
        kernel.handlers[event.type](session, event, data)


def sent(kernel: Any, event_type: str) -> list[dict[str, Any]]:
    with kernel.sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == event_type))
        events = [CloudEvent.from_json(r.payload) for r in rows]
    for event in events:
        kernel.catalogue.validate(event)  # everything it sends is valid by the catalogue
    return [e.data for e in events]


def plan(kernel: Any, contract_id: str) -> list[tuple[str, str, str]]:
    with kernel.sessions() as session:
        rows = session.scalars(
            select(LedgerMilestone)
            .where(LedgerMilestone.contract_id == contract_id)
            .order_by(LedgerMilestone.due_date)
        )
        return [(str(m.due_date), f"{m.amount:.2f}", f"{m.paid_amount:.2f}") for m in rows]


def payment_due(contract_id: str, due_date: str, amount: str = "60000.00") -> CloudEvent:
    money = {"amount": amount, "currency": "CNY"}
    data = {
        "contract_id": contract_id,
        "due_date": due_date,
        "amount": money,
        "outstanding": money,
        "description": "首期 first instalment",
        "po_number": f"PO-{contract_id}",
    }
    return CloudEvent("payment.due.v1", "/renewal", contract_id, data)


def test_a_signed_contract_is_booked_and_ordered_and_a_due_milestone_paid(connector: Any) -> None:
    deliver(connector, signed_event("C-ERP-1"))
    [order] = sent(connector, "erp.purchase_order.created.v1")
    assert order["po_number"] == "PO-C-ERP-1"
    assert order["amount"] == {"amount": "120000.00", "currency": "CNY"}
    assert sent(connector, "erp.payment.recorded.v1") == [], "nothing is paid before it is due"
    due = payment_due("C-ERP-1", "2027-01-01")
    deliver(connector, due)
    assert plan(connector, "C-ERP-1") == [
        ("2027-01-01", "60000.00", "60000.00"),
        ("2027-07-01", "60000.00", "0.00"),
    ]
    [payment] = sent(connector, "erp.payment.recorded.v1")
    assert payment["due_date"] == "2027-01-01" and payment["po_number"] == "PO-C-ERP-1"
    assert payment["payment_id"] == f"PAY-{due.id}"
    deliver(connector, payment_due("C-ERP-1", "2027-01-01"))  # announced again: paid already
    assert len(sent(connector, "erp.payment.recorded.v1")) == 1


def test_two_payments_on_one_date_are_one_milestone_of_both(connector: Any) -> None:
    event = signed_event("C-ERP-5")
    event.data["payment_schedule"].append(
        {
            "due_date": "2027-07-01",
            "amount": {"amount": "8000.00", "currency": "CNY"},
            "description": "功能升级 feature upgrade",
        }
    )
    deliver(connector, event)
    assert plan(connector, "C-ERP-5") == [
        ("2027-01-01", "60000.00", "0.00"),
        ("2027-07-01", "68000.00", "0.00"),
    ]


def test_a_due_milestone_the_ledger_does_not_hold_is_refused_naming_it(connector: Any) -> None:
    deliver(connector, signed_event("C-ERP-4"))
    with pytest.raises(EventRejected, match=r"C-ERP-4 on 2027-03-01.*does not hold"):
        deliver(connector, payment_due("C-ERP-4", "2027-03-01"))


def test_an_amendment_replaces_the_open_plan_and_a_termination_ends_it(connector: Any) -> None:
    deliver(connector, signed_event("C-ERP-2"))
    deliver(connector, payment_due("C-ERP-2", "2027-01-01"))
    amended = {
        "contract_id": "C-ERP-2",
        "request_id": "CR-1",
        "amendment_number": "A-1",
        "description": "加一个模块 one more module",
        "changes": {},
        "effective_date": "2027-03-01",
        "signed_on": "2027-02-20",
        "signed_by": {"user": "王建国", "provider": "陈思远"},
        "terms": {},
        "difference": {"amount": "20000.00", "currency": "CNY"},
        "total_after": {"amount": "140000.00", "currency": "CNY"},
        "fee_schedule": [
            {
                "due_date": "2027-01-01",
                "amount": {"amount": "60000.00", "currency": "CNY"},
                "kind": "periodic",
            },
            {
                "due_date": "2027-07-01",
                "amount": {"amount": "80000.00", "currency": "CNY"},
                "kind": "periodic",
                "description": "二期（含新模块）",
            },
        ],
    }
    deliver(connector, CloudEvent("contract.amended.v1", "/approval", "C-ERP-2", amended))
    assert plan(connector, "C-ERP-2") == [
        ("2027-01-01", "60000.00", "60000.00"),  # paid: kept as paid
        ("2027-07-01", "80000.00", "0.00"),
    ]
    terminated = {
        "contract_id": "C-ERP-2",
        "request_id": "TR-1",
        "grounds": "mutual",
        "notice_given_on": "2027-03-01",
        "effective_date": "2027-04-01",
        "compensation": {
            "payer": "none",
            "payee": "none",
            "amount": {"amount": "0.00", "currency": "CNY"},
            "basis": "双方协商",
        },
        "settlement": {"payer": "none", "amount": {"amount": "0.00", "currency": "CNY"}},
        "handover": [],
    }
    deliver(connector, CloudEvent("contract.terminated.v1", "/approval", "C-ERP-2", terminated))
    assert plan(connector, "C-ERP-2") == [("2027-01-01", "60000.00", "60000.00")]
    with connector.sessions() as session:
        contract = session.get(LedgerContract, "C-ERP-2")
        assert contract.status == "terminated" and str(contract.end_date) == "2027-04-01"


def test_an_event_for_a_contract_never_booked_is_refused_not_guessed(connector: Any) -> None:
    extended = {
        "contract_id": "C-NEVER",
        "kind": "automatic",
        "previous_end_date": "2027-12-31",
        "until": "2028-12-31",
        "fee": {"amount": "120000.00", "currency": "CNY"},
    }
    with pytest.raises(ledger.UnknownContract, match=r"C-NEVER.*no contract\.signed seen"):
        deliver(connector, CloudEvent("contract.extended.v1", "/renewal", "C-NEVER", extended))


def test_operator_commands_pay_in_parts_and_refuse_what_does_not_fit(
    connector: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ERP_CONNECTOR_DATABASE_URL", connector.url)
    deliver(connector, signed_event("C-ERP-3"))
    assert commands.main(["pay", "C-ERP-3", "2027-07-01", "--amount", "20000.00"]) == 0
    assert commands.main(["pay", "C-ERP-3", "2027-07-01", "--amount", "40000.00"]) == 0
    assert plan(connector, "C-ERP-3")[1] == ("2027-07-01", "60000.00", "60000.00")
    assert commands.main(["pay", "C-ERP-3", "2027-07-01", "--amount", "1.00"]) == 2
    assert "not between 0 and the 0.00 still open" in capsys.readouterr().err
    assert commands.main(["pay", "C-ERP-3", "2027-05-01"]) == 2
    assert "no payment due on 2027-05-01" in capsys.readouterr().err
    assert commands.main(["po", "C-ERP-3", "PO-C-ERP-3"]) == 2  # the automatic one exists
    assert commands.main(["ledger", "C-ERP-3"]) == 0
    out = capsys.readouterr().out
    assert "C-ERP-3" in out and "PO PO-C-ERP-3" in out
    amounts = [Decimal(p["amount"]["amount"]) for p in sent(connector, "erp.payment.recorded.v1")]
    assert sorted(amounts) == [Decimal("20000.00"), Decimal("40000.00")]
