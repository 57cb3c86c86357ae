"""Renewal's own view of every contract, from signed, amended and terminated events."""

from __future__ import annotations

import datetime as dt
import json

from contractflow.events.envelope import CloudEvent
from tests.conftest import both_databases
from tests.integration.renewal.support import amended_data, terminated_data


@both_databases
def test_a_signed_contract_is_watched_with_its_rules_standards_schedule_and_owner(world):
    contract = world.sign("C-VIEW-1")
    assert contract["status"] == "active"
    assert (contract["start_date"], contract["end_date"]) == ("2027-01-01", "2027-12-31")
    assert contract["auto_renew"] is True and contract["notice_period_days"] == 30
    assert contract["objection_deadline"] == "2027-12-01"
    assert contract["renewal_conditions"] == "双方无异议则自动续期一年"
    assert contract["licence_end_date"] is not None
    assert contract["service_standards"] == {"availability_percent": "99.9", "response_minutes": 30}
    assert [m["frequency"] for m in contract["maintenance_schedule"]] == [
        "weekly",
        "monthly",
        "quarterly",
    ]
    assert contract["owner_email"] == "it@mingde-trading.example.cn"
    assert contract["days_to_expiry"] == 360  # 2027-01-05 in Shanghai to 2027-12-31
    assert contract["next_deadline"]["kind"] == "maintenance"


@both_databases
def test_an_amendment_shows_the_current_total_and_term_and_moves_the_reminders(world):
    world.sign("C-VIEW-2")
    world.send(
        "contract.amended.v1",
        amended_data("C-VIEW-2", "A-1", dt.date(2028, 6, 30), "190720.00"),
        "C-VIEW-2",
    )
    contract = world.pump_until(
        lambda: (c := world.contract("C-VIEW-2")) and c["amendments"] == ["A-1"] and c
    )
    assert contract["total_amount"] == "190720.00"
    assert contract["end_date"] == "2028-06-30"
    assert contract["objection_deadline"] == "2028-05-31"
    expiry = world.client.get("/deadlines?day=2028-04-01", headers=world.token()).get_json()
    assert [(d["kind"], d["offset_days"]) for d in expiry["items"]] == [("expiry", 90)]
    old = world.client.get("/deadlines?day=2027-10-02", headers=world.token()).get_json()
    assert old["items"] == [], "the reminders for the old end date are gone"


@both_databases
def test_a_terminated_contract_shows_as_terminated_and_is_reminded_of_nothing(world):
    world.sign("C-VIEW-3")
    world.send("contract.terminated.v1", terminated_data("C-VIEW-3"), "C-VIEW-3")
    contract = world.pump_until(
        lambda: (c := world.contract("C-VIEW-3"))["status"] == "terminated" and c
    )
    assert contract["terminated_on"] == "2027-06-30"
    assert contract["termination_grounds"] == "user_convenience"
    assert contract["next_deadline"] is None
    world.advance_to(dt.datetime(2027, 10, 3, 2, 0, tzinfo=dt.UTC))
    assert world.events("contract.expiring.v1") == []


@both_databases
def test_an_amendment_before_its_signature_is_held_then_applied(world):
    world.send(
        "contract.amended.v1",
        amended_data("C-VIEW-4", "A-1", dt.date(2028, 3, 31), "180000.00"),
        "C-VIEW-4",
    )
    world.pump()
    assert world.contract("C-VIEW-4") == {}, "nothing guessed for an unknown contract"
    world.sign("C-VIEW-4")
    contract = world.pump_until(
        lambda: (c := world.contract("C-VIEW-4")) and c["amendments"] == ["A-1"] and c
    )
    assert (contract["end_date"], contract["total_amount"]) == ("2028-03-31", "180000.00")
    # The signed event delivered again does not undo the amendment.
    world.sign("C-VIEW-4")
    assert world.contract("C-VIEW-4")["end_date"] == "2028-03-31"


@both_databases
def test_an_amendment_nobody_signed_goes_to_dead_letters_with_the_reason(world):
    world.send(
        "contract.amended.v1",
        amended_data("C-NEVER", "A-1", dt.date(2028, 3, 31), "1.00"),
        "C-NEVER",
    )
    world.pump()
    scheduler_expiry = world.runtime.expired_unmatched
    with world.kernel.sessions() as session:
        assert scheduler_expiry(session, world.now) == [], "held, not yet expired"
    later = world.now + dt.timedelta(days=8)
    with world.kernel.sessions.begin() as session:
        [held] = scheduler_expiry(session, later)
    assert held.correlation_key == "C-NEVER"
    assert "contract.amended.v1" in held.reason and held.event_id


@both_databases
def test_terms_that_do_not_load_dead_letter_the_event_with_the_field(world):
    data = amended_data("C-VIEW-5", "A-1", dt.date(2028, 3, 31), "1.00")
    world.sign("C-VIEW-5")
    data["terms"]["service_term"]["end_date"] = "not a date"
    world.send("contract.amended.v1", data, "C-VIEW-5")
    [letter] = world.pump_until(world.dead_letters)
    assert "terms.service_term.end_date" in letter.header("dlq.error")
    assert json.loads(letter.value)["type"] == "contract.amended.v1"
    assert CloudEvent.from_json(letter.value).subject == "C-VIEW-5"
