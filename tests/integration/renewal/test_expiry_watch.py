"""The expiry watch with a fake clock: reminders at 90/60/30 days and before the last day to
object, each with `contract.expiring`, an owner task in the inbox and an email."""

from __future__ import annotations

import datetime as dt

from tests.conftest import both_databases
from tests.integration.renewal.support import OWNER_EMAIL, text_of

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def at(day: str, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A Shanghai wall-clock time, as the fake clock's UTC instant."""
    return dt.datetime.fromisoformat(f"{day}T{hour:02}:{minute:02}:00").replace(tzinfo=SHANGHAI)


def expiring(world) -> list[tuple[str, str, int]]:
    return [
        (e["deadline_kind"], e["deadline_date"], e["days_left"])
        for e in world.events("contract.expiring.v1")
    ]


@both_databases
def test_reminders_fire_at_their_offsets_with_event_task_and_email(world):
    world.sign("C-EXP-1", maintenance=False)
    world.advance_to(at("2027-10-02", 8, 59))
    assert expiring(world) == [], "not before 09:00 on the day, in the contract's zone"
    world.advance_to(at("2027-10-02"))
    [event] = world.pump_until(lambda: world.events("contract.expiring.v1"))
    assert (event["deadline_kind"], event["days_left"], event["end_date"]) == (
        "expiry",
        90,
        "2027-12-31",
    )
    tasks = world.client.get(
        "/workflow/tasks?contract_id=C-EXP-1", headers=world.token("li.min", "renewal-manager")
    ).get_json()["tasks"]
    assert [t["id"] for t in tasks] == [event["task_id"]]
    assert tasks[0]["form_key"] == "expiry_reminder"
    [mail] = world.pump_until(lambda: world.mailbox.to(OWNER_EMAIL))
    assert "距到期还有 90 天" in mail["Subject"]
    assert f"http://renewal.test/workflow/tasks/{event['task_id']}" in text_of(mail)
    assert "170,720.00 CNY" in text_of(mail)

    for day in ("2027-11-01", "2027-11-17", "2027-12-01"):
        world.advance_to(at(day))
    world.pump_until(lambda: len(expiring(world)) >= 5)
    assert expiring(world) == [
        ("expiry", "2027-12-31", 90),
        ("expiry", "2027-12-31", 60),
        ("objection", "2027-12-01", 14),
        ("expiry", "2027-12-31", 30),
        ("objection", "2027-12-01", 0),
    ]
    world.pump_until(lambda: len(world.mailbox.to(OWNER_EMAIL)) == 5)
    world.advance_to(at("2027-12-20"))
    world.pump()
    assert len(expiring(world)) == 5, "each deadline fires once"


@both_databases
def test_a_named_owner_gets_the_task_assigned_and_the_mail_in_english(world):
    world.sign("C-EXP-2", maintenance=False)
    response = world.client.put(
        "/contracts/C-EXP-2/owner",
        json={
            "owner_id": "wang.fang",
            "name": "Wang Fang",
            "email": "wf@corp.test",
            "language": "en",
        },
        headers=world.token(),
    )
    assert response.status_code == 200, response.get_json()
    world.advance_to(at("2027-10-02"))
    [mail] = world.pump_until(lambda: world.mailbox.to("wf@corp.test"))
    assert mail["Subject"].startswith("[Contract expiring]")
    assert "90 days" in mail["Subject"]
    mine = world.client.get(
        "/workflow/tasks", headers=world.token("wang.fang", "renewal-manager")
    ).get_json()["tasks"]
    assert [t["assignee"] for t in mine] == ["wang.fang"]


@both_databases
def test_objection_through_the_reminder_task_before_the_deadline(world):
    world.sign("C-EXP-3", maintenance=False)
    world.advance_to(at("2027-11-17"))
    world.pump_until(lambda: len(expiring(world)) == 3)
    [task_id] = [
        e["task_id"]
        for e in world.events("contract.expiring.v1")
        if e["deadline_kind"] == "objection"
    ]
    headers = world.token("li.min", "renewal-manager")
    refused = world.client.post(
        f"/workflow/tasks/{task_id}/complete",
        json={"data": {"outcome": "object_to_renewal"}},
        headers=headers,
    )
    assert refused.status_code == 422
    assert "note" in refused.get_json()["errors"]
    done = world.client.post(
        f"/workflow/tasks/{task_id}/complete",
        json={"data": {"outcome": "object_to_renewal", "note": "价格过高，重新招标"}},
        headers=headers,
    )
    assert done.status_code == 200, done.get_json()
    contract = world.contract("C-EXP-3")
    assert (contract["objected_by"], contract["objection_reason"]) == (
        "li.min",
        "价格过高，重新招标",
    )


@both_databases
def test_objection_over_http_is_refused_after_the_last_day(world):
    world.sign("C-EXP-4", maintenance=False)
    world.now = at("2027-12-02")
    late = world.client.post(
        "/contracts/C-EXP-4/objection", json={"reason": "too late"}, headers=world.token()
    )
    assert late.status_code == 409
    assert "2027-12-01" in late.get_json()["detail"]
    world.now = at("2027-12-01", 23, 59)
    ok = world.client.post(
        "/contracts/C-EXP-4/objection", json={"reason": "on the last day"}, headers=world.token()
    )
    assert ok.status_code == 200 and ok.get_json()["objection_reason"] == "on the last day"
    missing = world.client.post("/contracts/C-EXP-4/objection", json={}, headers=world.token())
    assert missing.status_code == 400 or missing.status_code == 422
    assert "reason" in missing.get_json()["errors"]


@both_databases
def test_the_calendar_lists_a_weeks_deadlines(world):
    world.sign("C-EXP-5", maintenance=False)
    world.sign("C-EXP-6", end=dt.date(2027, 12, 29), maintenance=False)
    week = world.client.get("/deadlines?week=2027-10-01", headers=world.token()).get_json()
    assert (week["first_day"], week["last_day"]) == ("2027-09-27", "2027-10-03")
    assert [(d["contract_id"], d["due_on"], d["kind"]) for d in week["items"]] == [
        ("C-EXP-6", "2027-09-30", "expiry"),
        ("C-EXP-5", "2027-10-02", "expiry"),
    ]
    assert (week["total"], week["by_kind"]) == (2, {"expiry": 2})
    page = world.client.get(
        "/deadlines?week=2027-10-01&limit=1&offset=1", headers=world.token()
    ).get_json()
    assert [d["contract_id"] for d in page["items"]] == ["C-EXP-5"]
    assert (page["total"], page["offset"]) == (2, 1), "the counts are the week's, not the page's"
    bad = world.client.get("/deadlines?day=2027-10-01&week=2027-10-01", headers=world.token())
    assert bad.status_code in (400, 422) and "day" in bad.get_json()["errors"]


@both_databases
def test_a_contract_signed_late_still_gets_one_reminder_at_once(world):
    world.now = at("2027-12-15", 10)
    world.sign("C-EXP-7", maintenance=False)
    world.pump_until(lambda: expiring(world))
    assert expiring(world) == [("expiry", "2027-12-31", 16)]
