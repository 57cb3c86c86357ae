"""Evaluation scores against numbers worked out by hand (the sums are in the comments)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from contractflow.contracts.evaluation import (
    KpiPeriod,
    MaintenanceCompliance,
    Targets,
    evaluate,
)
from contractflow.contracts.maintenance_periods import next_period, period_containing
from contractflow.contracts.operations import Frequency

TARGETS = Targets(D("99.5"), D("30"), D("95"))
JANUARY = KpiPeriod(dt.date(2027, 1, 1), dt.date(2027, 1, 31), D("99.8"), D("20"), D("96"))
FEBRUARY = KpiPeriod(dt.date(2027, 2, 1), dt.date(2027, 2, 28), D("99.0"), D("50"), D("90"))
ONE_MISSED = MaintenanceCompliance(12, ("vulnerability scan (2027-01-01)",))


def by_kpi(evaluation):
    return {s.kpi: s for s in evaluation.scores}


def test_two_months_scored_against_the_contracts_targets():
    result = evaluate(TARGETS, [JANUARY, FEBRUARY], ONE_MISSED)
    scores = by_kpi(result)
    # availability: (99.8*31 + 99.0*28) / 59 = 5865.8 / 59 = 99.42034 -> 99.420;
    # allowed downtime 0.5, measured 0.580: 100 * 0.5 / 0.58 = 86.2069 -> 86.21
    assert scores["availability"].measured == D("99.420")
    assert scores["availability"].score == D("86.21")
    # response: (20*31 + 50*28) / 59 = 2020 / 59 = 34.2373 -> 34.24; 100 * 30 / 34.24 = 87.62
    assert scores["response_time"].measured == D("34.24")
    assert scores["response_time"].score == D("87.62")
    # fault-fix: (96*31 + 90*28) / 59 = 5496 / 59 = 93.15254 -> 93.153; 100 * 93.153 / 95 = 98.06
    assert scores["fault_fix_rate"].measured == D("93.153")
    assert scores["fault_fix_rate"].score == D("98.06")
    # maintenance: 11 of 12 -> 91.67
    assert scores["maintenance"].score == D("91.67")
    # (86.21*40 + 87.62*25 + 98.06*20 + 91.67*15) / 100 = 8975.15 / 100 = 89.7515 -> 89.75
    assert result.total_score == D("89.75")
    assert result.rating == "good"
    assert result.maintenance_missed == ("vulnerability scan (2027-01-01)",)


def test_every_score_says_in_both_languages_how_it_was_reached():
    scores = by_kpi(evaluate(TARGETS, [JANUARY, FEBRUARY], ONE_MISSED))
    assert "0.580" in scores["availability"].explanation["en"]
    assert "86.21" in scores["availability"].explanation["zh"]
    assert "34.24" in scores["response_time"].explanation["zh"]
    assert "vulnerability scan (2027-01-01)" in scores["maintenance"].explanation["en"]
    assert "11 of 12" in scores["maintenance"].explanation["en"]


def test_a_kpi_without_a_target_gives_its_weight_to_the_others():
    result = evaluate(Targets(D("99.5"), D("30"), None), [JANUARY, FEBRUARY], ONE_MISSED)
    fix = by_kpi(result)["fault_fix_rate"]
    assert not fix.scored and "no fault-fix rate target" in fix.explanation["en"]
    # (86.21*40 + 87.62*25 + 91.67*15) / 80 = 7013.95 / 80 = 87.674 -> 87.67
    assert result.total_score == D("87.67")


def test_targets_met_score_full_marks_and_rate_excellent():
    result = evaluate(TARGETS, [JANUARY], MaintenanceCompliance(4))
    assert [s.score for s in result.scores] == [D(100)] * 4
    assert (result.total_score, result.rating) == (D("100.00"), "excellent")


def test_no_reports_leaves_only_maintenance_scored():
    result = evaluate(TARGETS, [], MaintenanceCompliance(4, ("server check (2027-01-04)",)))
    assert result.total_score == D("75.00")  # 3 of 4 evidenced, the only scored KPI
    assert "No availability was reported" in by_kpi(result)["availability"].explanation["en"]


def test_maintenance_with_nothing_due_is_not_measured_and_left_out_of_the_total():
    # No maintenance item fell due: the three reported KPIs alone, not a free 100.
    # availability 99.7 >= 99.5: 100; response 40 > 30: 100 * 30 / 40 = 75.00;
    # fault-fix 96 >= 95: 100; (100*40 + 75*25 + 100*20) / 85 = 7875 / 85 = 92.647 -> 92.65.
    march = KpiPeriod(dt.date(2027, 3, 1), dt.date(2027, 3, 31), D("99.7"), D("40"), D("96"))
    result = evaluate(Targets(D("99.5"), D("30"), D("95")), [march], MaintenanceCompliance(0))
    scores = by_kpi(result)
    assert scores["response_time"].score == D("75.00")
    assert (result.total_score, result.rating) == (D("92.65"), "excellent")
    maintenance = scores["maintenance"].to_dict()
    assert (maintenance["status"], maintenance["score"]) == ("not_measured", None)
    assert "not measured" in maintenance["explanation"]["en"]
    assert "未测量" in maintenance["explanation"]["zh"]


def test_an_evaluation_with_nothing_measured_has_no_score_and_is_not_poor():
    result = evaluate(TARGETS, [], MaintenanceCompliance(0))
    assert (result.total_score, result.rating) == (None, "not_measured")
    shown = result.to_dict()
    assert shown["total_score"] is None
    assert {s["status"] for s in shown["scores"]} == {"not_measured"}
    assert all(s["score"] is None for s in shown["scores"])
    assert "Nothing was measured" in shown["explanation"]["en"]
    assert "尚无任何测量数据" in shown["explanation"]["zh"]
    no_target = evaluate(Targets(), [], MaintenanceCompliance(0)).to_dict()["scores"]
    assert [s["status"] for s in no_target] == ["no_target"] * 3 + ["not_measured"]


def test_maintenance_periods_follow_the_calendar():
    wednesday = dt.date(2027, 2, 17)
    assert period_containing(wednesday, Frequency.WEEKLY) == (
        dt.date(2027, 2, 15),
        dt.date(2027, 2, 21),
    )
    assert period_containing(wednesday, Frequency.MONTHLY) == (
        dt.date(2027, 2, 1),
        dt.date(2027, 2, 28),
    )
    assert period_containing(wednesday, Frequency.QUARTERLY) == (
        dt.date(2027, 1, 1),
        dt.date(2027, 3, 31),
    )
    assert next_period(dt.date(2027, 3, 31), Frequency.QUARTERLY) == (
        dt.date(2027, 4, 1),
        dt.date(2027, 6, 30),
    )
