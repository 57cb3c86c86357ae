"""A contract closed as renewed by a renegotiation still runs to its end date: its
payments fall due and its maintenance and evaluations are checked until then; only what
the renewal decided (expiry reminders, the objection deadline, the decision) is dropped,
and at its end it stays renewed, with no handover."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from services.renewal.models import Deadline
from tests.conftest import both_databases
from tests.integration.renewal.support import RenewalWorld, signed_data
from tests.integration.renewal.test_expiry_watch import at
from tests.integration.renewal.test_payments import SCHEDULE, due_dates, events, schedule


def pending_kinds(world: RenewalWorld, contract_id: str) -> set[str]:
    with world.kernel.sessions() as session:
        return set(
            session.scalars(
                select(Deadline.kind).where(
                    Deadline.contract_id == contract_id, Deadline.status == "pending"
                )
            )
        )


def all_kinds(world: RenewalWorld, contract_id: str) -> set[str]:
    with world.kernel.sessions() as session:
        return set(
            session.scalars(select(Deadline.kind).where(Deadline.contract_id == contract_id))
        )


@both_databases
def test_the_renewed_contract_is_paid_and_supervised_to_its_end_then_ends_as_renewed(world):
    old = signed_data("C-OLD")
    old["payment_schedule"] = schedule(*SCHEDULE)
    world.send("contract.signed.v1", old, "C-OLD")
    world.pump_until(lambda: world.contract("C-OLD"))
    assert {"expiry", "objection", "auto_extension"} <= pending_kinds(world, "C-OLD")

    new = signed_data("C-NEW", dt.date(2028, 1, 1), dt.date(2028, 12, 31))
    new["renews_contract_id"] = "C-OLD"
    world.send("contract.signed.v1", new, "C-NEW")
    world.pump_until(lambda: world.contract("C-OLD").get("status") == "renewed")
    assert pending_kinds(world, "C-OLD") == {
        "payment_due",
        "payment_overdue",
        "maintenance",
        "evaluation",
    }, "the renewal makes the reminders and the objection moot, not the rest of the term"

    world.advance_to(at("2027-04-02"))
    assert "2027-04-01" in due_dates(world)
    world.advance_to(at("2027-07-02"))
    assert "2027-07-01" in due_dates(world)
    evaluated = [e for e in events(world, "contract.evaluated.v1") if e["contract_id"] == "C-OLD"]
    assert len(evaluated) == 1, "the first half year is evaluated"

    world.advance_to(at("2028-01-02"))
    evaluated = [e for e in events(world, "contract.evaluated.v1") if e["contract_id"] == "C-OLD"]
    assert len(evaluated) == 2, "the last half year, ending on the end date, is evaluated"
    assert world.contract("C-OLD")["status"] == "renewed"
    world.advance_to(at("2028-01-04"))  # the weekly check of the week the term ends in
    assert pending_kinds(world, "C-OLD") == set(), "nothing planned past the end date"
    assert "handover" not in all_kinds(world, "C-OLD")
    assert not [e for e in events(world, "contract.expiring.v1") if e["contract_id"] == "C-OLD"]
