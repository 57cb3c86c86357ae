"""Scoring a provider against the contract's own standards (DOMAIN.md §8): pure functions.

Each KPI gets a score from 0 to 100 and a sentence (zh/en) saying how it was reached:

- availability (higher is better): 100 at or above the target, else the share of the
  allowed downtime in the downtime measured — target 99.5 %, measured 99.0 % is
  0.5 / 1.0 = 50;
- mean response time (lower is better): 100 at or under the target, else target / measured;
- fault-fix rate (higher is better): 100 at or above the target, else measured / target;
- maintenance compliance: the share of due maintenance items that were evidenced.

Measured values are the period-length-weighted means of the period's reports, rounded to
the precision shown (availability and fix rate 0.001, response minutes 0.01) before they
are scored, so a reader can redo the sum from the numbers in the explanation. Scores and
the total are rounded half up to 0.01; the total is the weighted mean of the shown
scores. A KPI without a target or without a measurement (no report, no maintenance item
due) is not scored and its weight is shared among the others, and the explanation says
so; a period with no measurement at all gets no score and the rating `not_measured`
rather than a 0.00 that reads as "poor".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
MILLI = Decimal("0.001")

DEFAULT_WEIGHTS = {
    "availability": Decimal(40),
    "response_time": Decimal(25),
    "fault_fix_rate": Decimal(20),
    "maintenance": Decimal(15),
}
RATINGS = ((Decimal(90), "excellent"), (Decimal(75), "good"), (Decimal(60), "acceptable"))
NOT_MEASURED = "not_measured"  # a KPI, or a whole evaluation, with nothing measured
NOTHING_MEASURED = {
    "zh": "本期尚无任何测量数据（没有 KPI 报告，也没有到期的维护项目），暂不评分。",
    "en": "Nothing was measured in the period yet (no KPI report, no maintenance item due): "
    "no score.",
}


@dataclass(frozen=True)
class Targets:
    availability_percent: Decimal | None = None
    response_minutes: Decimal | None = None
    fault_fix_rate_percent: Decimal | None = None


@dataclass(frozen=True)
class KpiPeriod:
    """One report: the measured levels over `start`..`end` (inclusive)."""

    start: dt.date
    end: dt.date
    availability_percent: Decimal
    mean_response_minutes: Decimal
    fault_fix_rate_percent: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class MaintenanceCompliance:
    due: int  # item-periods that ended within the evaluated period
    missed: tuple[str, ...] = ()  # "item (period start)" of each one not evidenced

    @property
    def evidenced(self) -> int:
        return self.due - len(self.missed)


@dataclass(frozen=True)
class KpiScore:
    kpi: str
    target: Decimal | None
    measured: Decimal | None
    weight: Decimal
    score: Decimal
    scored: bool
    explanation: dict[str, str]

    @property
    def status(self) -> str:
        """scored; no_target (the contract states none); not_measured (nothing reported)."""
        if self.scored:
            return "scored"
        return "no_target" if self.target is None and self.kpi != "maintenance" else NOT_MEASURED

    def to_dict(self) -> dict[str, object]:
        return {
            "kpi": self.kpi,
            "status": self.status,
            "target": None if self.target is None else str(self.target),
            "measured": None if self.measured is None else str(self.measured),
            "weight": str(self.weight),
            "score": str(self.score) if self.scored else None,
            "explanation": dict(self.explanation),
        }


@dataclass(frozen=True)
class Evaluation:
    total_score: Decimal | None  # None: nothing was measured (rating not_measured)
    rating: str
    scores: tuple[KpiScore, ...]
    maintenance_missed: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "total_score": None if self.total_score is None else str(self.total_score),
            "rating": self.rating,
            "scores": [s.to_dict() for s in self.scores],
            "maintenance_missed": list(self.maintenance_missed),
        }
        if self.total_score is None:
            found["explanation"] = dict(NOTHING_MEASURED)
        return found


def evaluate(
    targets: Targets,
    reports: Sequence[KpiPeriod],
    maintenance: MaintenanceCompliance,
    weights: dict[str, Decimal] | None = None,
) -> Evaluation:
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    measured = _measured(reports)
    scores = (
        _higher_is_better(
            "availability",
            targets.availability_percent,
            measured[0],
            weights["availability"],
            _downtime_share,
            ("可用性", "availability", "%"),
        ),
        _response(targets.response_minutes, measured[1], weights["response_time"]),
        _higher_is_better(
            "fault_fix_rate",
            targets.fault_fix_rate_percent,
            measured[2],
            weights["fault_fix_rate"],
            lambda target, value: HUNDRED * value / target,
            ("故障修复率", "fault-fix rate", "%"),
        ),
        _maintenance(maintenance, weights["maintenance"]),
    )
    scored = [s for s in scores if s.scored]
    weight = sum((s.weight for s in scored), Decimal(0))
    if not scored or weight == 0:
        return Evaluation(None, NOT_MEASURED, scores, maintenance.missed)
    total = _round(sum((s.score * s.weight for s in scored), Decimal(0)) / weight)
    rating = next((name for floor, name in RATINGS if total >= floor), "poor")
    return Evaluation(total, rating, scores, maintenance.missed)


def _measured(
    reports: Sequence[KpiPeriod],
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    days = sum(r.days for r in reports)
    if not reports or days <= 0:
        return None, None, None

    def mean(value: str) -> Decimal:
        return sum((getattr(r, value) * r.days for r in reports), Decimal(0)) / days

    return (
        mean("availability_percent").quantize(MILLI, ROUND_HALF_UP),
        mean("mean_response_minutes").quantize(CENT, ROUND_HALF_UP),
        mean("fault_fix_rate_percent").quantize(MILLI, ROUND_HALF_UP),
    )


def _downtime_share(target: Decimal, value: Decimal) -> Decimal:
    allowed, actual = HUNDRED - target, HUNDRED - value
    return HUNDRED * allowed / actual


def _higher_is_better(
    kpi: str,
    target: Decimal | None,
    value: Decimal | None,
    weight: Decimal,
    shortfall_score: object,
    names: tuple[str, str, str],
) -> KpiScore:
    zh, en, unit = names
    missing = _not_scored(kpi, target, value, weight, zh, en)
    if missing is not None:
        return missing
    assert target is not None and value is not None
    if value >= target:
        score = HUNDRED
        text = {
            "zh": f"{zh}实测 {value}{unit}，达到目标 {target}{unit}，得满分 100。",
            "en": f"Measured {en} {value}{unit} meets the target {target}{unit}: full score 100.",
        }
    else:
        score = _round(shortfall_score(target, value))  # type: ignore[operator]
        if kpi == "availability":
            text = {
                "zh": f"{zh}实测 {value}{unit}，低于目标 {target}{unit}：允许停机 "
                f"{HUNDRED - target}{unit}，实际停机 {HUNDRED - value}{unit}，得分 {score}。",
                "en": f"Measured {en} {value}{unit} is below the target {target}{unit}: "
                f"{HUNDRED - target}{unit} downtime allowed, {HUNDRED - value}{unit} measured, "
                f"score {score}.",
            }
        else:
            text = {
                "zh": f"{zh}实测 {value}{unit}，低于目标 {target}{unit}，按实测/目标得分 {score}。",
                "en": f"Measured {en} {value}{unit} is below the target {target}{unit}: "
                f"measured / target gives {score}.",
            }
    return KpiScore(kpi, target, value, weight, score, True, text)


def _response(target: Decimal | None, value: Decimal | None, weight: Decimal) -> KpiScore:
    kpi = "response_time"
    missing = _not_scored(kpi, target, value, weight, "平均响应时间", "mean response time")
    if missing is not None:
        return missing
    assert target is not None and value is not None
    if value <= target:
        return KpiScore(
            kpi,
            target,
            value,
            weight,
            HUNDRED,
            True,
            {
                "zh": f"平均响应时间 {value} 分钟，不超过目标 {target} 分钟，得满分 100。",
                "en": f"Mean response time {value} min is within the target {target} min: "
                "full score 100.",
            },
        )
    score = _round(HUNDRED * target / value)
    return KpiScore(
        kpi,
        target,
        value,
        weight,
        score,
        True,
        {
            "zh": f"平均响应时间 {value} 分钟，超过目标 {target} 分钟，按目标/实测得分 {score}。",
            "en": f"Mean response time {value} min exceeds the target {target} min: "
            f"target / measured gives {score}.",
        },
    )


def _maintenance(compliance: MaintenanceCompliance, weight: Decimal) -> KpiScore:
    due, done = compliance.due, compliance.evidenced
    if due == 0:  # nothing to measure compliance by: not a full score
        return KpiScore(
            "maintenance",
            None,
            None,
            weight,
            Decimal("0.00"),
            False,
            {
                "zh": "本期没有到期的维护项目，维护合规未测量，本项不计分，权重分配给其他指标。",
                "en": "No maintenance item fell due in the period: compliance not measured, "
                "not scored, its weight goes to the others.",
            },
        )
    score = _round(HUNDRED * done / due)
    missed_zh = f"；未完成：{'、'.join(compliance.missed)}" if compliance.missed else ""
    missed_en = f"; missed: {', '.join(compliance.missed)}" if compliance.missed else ""
    return KpiScore(
        "maintenance",
        Decimal(due),
        Decimal(done),
        weight,
        score,
        True,
        {
            "zh": f"到期维护 {due} 项，有完成证明 {done} 项，得分 {score}{missed_zh}。",
            "en": f"{done} of {due} maintenance items due were evidenced: score {score}"
            f"{missed_en}.",
        },
    )


def _not_scored(
    kpi: str,
    target: Decimal | None,
    value: Decimal | None,
    weight: Decimal,
    zh: str,
    en: str,
) -> KpiScore | None:
    if target is not None and value is not None:
        return None
    if target is None:
        text = {
            "zh": f"合同未约定{zh}目标，本项不计分，权重分配给其他指标。",
            "en": f"The contract states no {en} target: not scored, its weight goes to the others.",
        }
    else:
        text = {
            "zh": f"本期没有{zh}的报告，未测量，本项不计分，权重分配给其他指标。",
            "en": f"No {en} was reported for the period: not measured, not scored, "
            "its weight goes to the others.",
        }
    return KpiScore(kpi, target, value, weight, Decimal("0.00"), False, text)


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)
