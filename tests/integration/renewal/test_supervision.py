"""KPI reports and maintenance evidence (events and HTTP), missed maintenance, evaluations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.conftest import both_databases
from tests.integration.renewal.support import OWNER_EMAIL
from tests.integration.renewal.test_expiry_watch import at


def kpi(contract_id: str, start: str, end: str, availability: str, response: str, fix: str):
    return {
        "contract_id": contract_id,
        "period_start": start,
        "period_end": end,
        "availability_percent": availability,
        "mean_response_minutes": response,
        "fault_fix_rate_percent": fix,
        "reported_by": "monitoring",
    }


def evidence(contract_id: str, item: str, period_start: str, performed_on: str):
    return {
        "contract_id": contract_id,
        "item": item,
        "period_start": period_start,
        "performed_on": performed_on,
        "evidence_reference": f"DMS-{item}-{period_start}",
        "reported_by": "provider",
    }


@both_databases
def test_a_missed_quarterly_scan_raises_a_task_and_marks_the_evaluation(world):
    world.sign("C-SUP-1")
    # Every weekly and monthly item evidenced through the first quarter; the scan is not.
    day = dt.date(2027, 1, 4)
    while day <= dt.date(2027, 3, 29):
        world.send(
            "maintenance.performed.v1",
            evidence("C-SUP-1", "server check", day.isoformat(), day.isoformat()),
            "C-SUP-1",
        )
        day += dt.timedelta(days=7)
    world.send(
        "maintenance.performed.v1",
        evidence("C-SUP-1", "server check", "2026-12-28", "2027-01-01"),
        "C-SUP-1",
    )
    for month in (1, 2, 3):
        first = dt.date(2027, month, 1).isoformat()
        response = world.client.post(
            "/contracts/C-SUP-1/maintenance",
            json={
                "item": "database maintenance",
                "period_start": first,
                "performed_on": first,
                "evidence_reference": "DMS-db",
            },
            headers=world.token(),
        )
        assert response.status_code == 201, response.get_json()
    world.pump_until(
        lambda: (
            len(
                world.client.get(
                    "/contracts/C-SUP-1/maintenance", headers=world.token()
                ).get_json()["items"]
            )
            >= 16
        )
    )

    world.advance_to(at("2027-04-01"))
    records = world.pump_until(
        lambda: [
            r
            for r in world.client.get(
                "/contracts/C-SUP-1/maintenance", headers=world.token()
            ).get_json()["items"]
            if r["status"] == "missed"
        ]
    )
    assert [(r["item"], r["period_start"], r["period_end"]) for r in records] == [
        ("vulnerability scan", "2027-01-01", "2027-03-31")
    ]
    tasks = world.client.get(
        "/workflow/tasks?contract_id=C-SUP-1", headers=world.token()
    ).get_json()["tasks"]
    assert [t["form_key"] for t in tasks] == ["missed_maintenance"]
    assert tasks[0]["id"] == records[0]["task_id"]
    [mail] = world.pump_until(lambda: world.mailbox.to(OWNER_EMAIL))
    assert "vulnerability scan" in mail["Subject"] and "维护未完成" in mail["Subject"]

    # The evaluation counts it: 3 monthly + 13 weekly + 1 quarterly item-periods, 1 missed.
    response = world.client.post(
        "/contracts/C-SUP-1/evaluations",
        json={"period_start": "2027-01-01", "period_end": "2027-03-31"},
        headers=world.token(),
    )
    assert response.status_code == 201, response.get_json()
    maintenance = {s["kpi"]: s for s in response.get_json()["result"]["scores"]}["maintenance"]
    assert response.get_json()["result"]["maintenance_missed"] == [
        "vulnerability scan (2027-01-01)"
    ]
    # 16 of 17 evidenced: 100 * 16 / 17 = 94.1176 -> 94.12
    assert maintenance["score"] == "94.12"


@both_databases
def test_kpi_reports_are_scored_against_the_contracts_standards(world):
    world.sign("C-SUP-2", maintenance=False)
    world.send(
        "service.kpi.reported.v1",
        kpi("C-SUP-2", "2027-01-01", "2027-01-31", "99.95", "25", "99"),
        "C-SUP-2",
    )
    response = world.client.post(
        "/contracts/C-SUP-2/kpi-reports",
        json={
            "period_start": "2027-02-01",
            "period_end": "2027-02-28",
            "availability_percent": "99.5",
            "mean_response_minutes": "45",
            "fault_fix_rate_percent": "97",
        },
        headers=world.token(),
    )
    assert response.status_code == 201, response.get_json()
    world.pump_until(
        lambda: (
            len(
                world.client.get(
                    "/contracts/C-SUP-2/kpi-reports", headers=world.token()
                ).get_json()["items"]
            )
            == 2
        )
    )
    evaluation = world.client.post(
        "/contracts/C-SUP-2/evaluations",
        json={"period_start": "2027-01-01", "period_end": "2027-02-28"},
        headers=world.token(),
    ).get_json()
    scores = {s["kpi"]: s for s in evaluation["result"]["scores"]}
    # availability: (99.95*31 + 99.5*28) / 59 = 5884.45 / 59 = 99.7364 -> 99.736; target 99.9:
    # 100 * 0.1 / 0.264 = 37.8788 -> 37.88
    assert (scores["availability"]["measured"], scores["availability"]["score"]) == (
        "99.736",
        "37.88",
    )
    # response: (25*31 + 45*28) / 59 = 2035 / 59 = 34.4915 -> 34.49; target 30: 86.98
    assert (scores["response_time"]["measured"], scores["response_time"]["score"]) == (
        "34.49",
        "86.98",
    )
    # no fault-fix target in the sample's standards: not scored; no maintenance due: not
    # measured, so not a free 100 either
    assert "no fault-fix rate target" in scores["fault_fix_rate"]["explanation"]["en"]
    assert (scores["maintenance"]["status"], scores["maintenance"]["score"]) == (
        "not_measured",
        None,
    )
    # (37.88*40 + 86.98*25) / 65 = (1515.2 + 2174.5) / 65 = 3689.7 / 65 = 56.764 -> 56.76
    assert evaluation["total_score"] == "56.76" and evaluation["rating"] == "poor"
    world.pump_until(lambda: world.events("contract.evaluated.v1"))
    [published] = world.events("contract.evaluated.v1")
    assert Decimal(published["total_score"]) == Decimal("56.76")
    listed = world.client.get("/contracts/C-SUP-2/evaluations", headers=world.token()).get_json()
    assert [e["evaluation_id"] for e in listed["items"]] == [evaluation["evaluation_id"]]


@both_databases
def test_the_half_year_evaluation_is_published_by_the_watch(world):
    world.sign("C-SUP-3", maintenance=False)
    world.advance_to(at("2027-07-01"))
    [event] = world.pump_until(lambda: world.events("contract.evaluated.v1"))
    assert (event["period_start"], event["period_end"]) == ("2027-01-01", "2027-06-30")


@both_databases
def test_bad_reports_are_refused_naming_the_field(world):
    world.sign("C-SUP-4")
    unknown_item = world.client.post(
        "/contracts/C-SUP-4/maintenance",
        json={
            "item": "coffee machine",
            "period_start": "2027-01-01",
            "performed_on": "2027-01-02",
            "evidence_reference": "x",
        },
        headers=world.token(),
    )
    assert unknown_item.status_code == 422
    assert "coffee machine" in unknown_item.get_json()["errors"]["item"][0]
    bad_percent = world.client.post(
        "/contracts/C-SUP-4/kpi-reports",
        json={
            "period_start": "2027-01-01",
            "period_end": "2027-01-31",
            "availability_percent": "101",
            "mean_response_minutes": "5",
            "fault_fix_rate_percent": "99",
        },
        headers=world.token(),
    )
    assert bad_percent.status_code in (400, 422)
    assert "availability_percent" in bad_percent.get_json()["errors"]
    unknown_contract = world.client.post(
        "/contracts/C-NOPE/kpi-reports",
        json={
            "period_start": "2027-01-01",
            "period_end": "2027-01-31",
            "availability_percent": "99",
            "mean_response_minutes": "5",
            "fault_fix_rate_percent": "99",
        },
        headers=world.token(),
    )
    assert unknown_contract.status_code == 404
    viewer = world.client.post(
        "/contracts/C-SUP-4/kpi-reports", json={}, headers=world.token("v", "contract-viewer")
    )
    assert viewer.status_code == 403
    # The same mistake by event goes to the dead-letter topic with the reason.
    world.send(
        "maintenance.performed.v1",
        evidence("C-SUP-4", "coffee machine", "2027-01-01", "2027-01-02"),
        "C-SUP-4",
    )
    [letter] = world.pump_until(world.dead_letters)
    assert "coffee machine" in letter.header("dlq.error")


@both_databases
def test_a_half_year_with_nothing_measured_is_published_without_a_score(world):
    world.sign("C-SUP-NONE", maintenance=False)  # no KPI report, no maintenance item due
    world.advance_to(at("2027-07-02"))
    [published] = world.pump_until(lambda: world.events("contract.evaluated.v1"))
    assert (published["total_score"], published["rating"]) == (None, "not_measured")
    assert {s["status"] for s in published["scores"]} <= {"no_target", "not_measured"}
    listed = world.client.get("/contracts/C-SUP-NONE/evaluations", headers=world.token())
    [shown] = listed.get_json()["items"]
    assert shown["total_score"] is None and shown["rating"] == "not_measured"
    assert "Nothing was measured" in shown["result"]["explanation"]["en"]
