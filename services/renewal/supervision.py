"""Supervision of a running contract (DOMAIN.md §8): KPI reports and maintenance evidence
as they arrive, maintenance periods that ended without evidence (missed: a task and a
mark), and evaluations scored by `contractflow.contracts.evaluation`."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.contracts.evaluation import (
    Evaluation as Scored,
)
from contractflow.contracts.evaluation import (
    KpiPeriod,
    MaintenanceCompliance,
    Targets,
    evaluate,
)
from contractflow.contracts.maintenance_periods import period_containing
from contractflow.contracts.operations import Frequency
from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import Outbox
from contractflow.workflow import WorkflowRuntime
from services.renewal.contract_view import get_contract
from services.renewal.mails import RenewalMails
from services.renewal.models import (
    Deadline,
    Evaluation,
    KpiReport,
    MaintenanceRecord,
    WatchedContract,
)
from services.renewal.owner_tasks import open_task

EVIDENCED, MISSED = "evidenced", "missed"
MISSED_PROCESS = "missed_maintenance"


class SupervisionInvalid(ValueError):
    """A report that does not fit the contract; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def record_kpis(session: Session, data: dict[str, Any], now: dt.datetime) -> KpiReport:
    """Store one period's measured levels; a second report for the same period replaces it."""
    get_contract(session, data["contract_id"])
    if data["period_end"] < data["period_start"]:
        raise SupervisionInvalid("period_end", "must not be before period_start")
    report = session.scalar(
        select(KpiReport).where(
            KpiReport.contract_id == data["contract_id"],
            KpiReport.period_start == data["period_start"],
            KpiReport.period_end == data["period_end"],
        )
    ) or KpiReport(
        contract_id=data["contract_id"],
        period_start=data["period_start"],
        period_end=data["period_end"],
    )
    report.availability_percent = data["availability_percent"]
    report.mean_response_minutes = data["mean_response_minutes"]
    report.fault_fix_rate_percent = data["fault_fix_rate_percent"]
    report.incidents = data.get("incidents")
    report.reported_by = data["reported_by"]
    report.received_at = now
    session.add(report)
    session.flush()
    return report


def record_maintenance(
    session: Session, data: dict[str, Any], now: dt.datetime
) -> MaintenanceRecord:
    """Evidence for one item of the schedule in the period containing `period_start`.
    Evidence arriving after the period was marked missed is kept; the mark stays."""
    contract = get_contract(session, data["contract_id"])
    frequency = _frequency(contract, data["item"])
    start, end = period_containing(data["period_start"], frequency)
    record = _record(session, contract.contract_id, data["item"], start)
    if record is None:
        record = MaintenanceRecord(contract_id=contract.contract_id, item=data["item"])
        record.period_start, record.period_end, record.status = start, end, EVIDENCED
        session.add(record)
    record.performed_on = data["performed_on"]
    record.evidence_reference = data["evidence_reference"]
    record.reported_by = data["reported_by"]
    record.recorded_at = now
    session.flush()
    return record


def check_maintenance(
    session: Session,
    deadline: Deadline,
    contract: WatchedContract,
    now: dt.datetime,
    runtime: WorkflowRuntime,
    mails: RenewalMails,
) -> MaintenanceRecord | None:
    """The day after an item's period: without evidence it is missed — marked (it counts
    in the evaluation) and a task and an email for the owner. Answers the missed record."""
    frequency = _frequency(contract, deadline.item)
    start, end = period_containing(deadline.deadline_date, frequency)
    if _record(session, contract.contract_id, deadline.item, start) is not None:
        return None
    record = MaintenanceRecord(contract_id=contract.contract_id, item=deadline.item)
    record.period_start, record.period_end, record.status = start, end, MISSED
    record.recorded_at = now
    session.add(record)
    session.flush()
    record.task_id = open_task(
        session,
        runtime,
        MISSED_PROCESS,
        contract,
        {"item": deadline.item, "period_start": start.isoformat(), "period_end": end.isoformat()},
        now,
        mails=None,  # its own mail, with the evidence asked for, below
    )
    deadline.task_id = record.task_id
    mails.queue_missed_maintenance(session, contract, record, now)
    return record


def evaluate_contract(
    session: Session,
    contract: WatchedContract,
    period_start: dt.date,
    period_end: dt.date,
    now: dt.datetime,
    outbox: Outbox,
) -> Evaluation:
    """Score the provider over the period and publish `contract.evaluated`."""
    scored = score(session, contract, period_start, period_end)
    row = Evaluation(evaluation_id=f"EV-{uuid.uuid4().hex[:16]}", contract_id=contract.contract_id)
    row.period_start, row.period_end = period_start, period_end
    row.total_score, row.rating = scored.total_score, scored.rating
    row.result, row.evaluated_at = scored.to_dict(), now
    session.add(row)
    outbox.record(
        session,
        CloudEvent(
            type="contract.evaluated.v1",
            source="/renewal",
            subject=contract.contract_id,
            data={
                "contract_id": contract.contract_id,
                "evaluation_id": row.evaluation_id,
                "period_start": period_start.isoformat(),
                "period_end": period_end.isoformat(),
                "total_score": scored.to_dict()["total_score"],
                "rating": scored.rating,
                "scores": [s.to_dict() for s in scored.scores],
                "maintenance_missed": list(scored.maintenance_missed),
                "evaluated_at": now.isoformat(),
            },
        ),
    )
    session.flush()
    return row


def score(
    session: Session, contract: WatchedContract, period_start: dt.date, period_end: dt.date
) -> Scored:
    standards = contract.service_standards or {}
    targets = Targets(
        _decimal(standards.get("availability_percent")),
        _decimal(standards.get("response_minutes")),
        _decimal(standards.get("fault_fix_rate_percent")),
    )
    reports = [
        KpiPeriod(
            max(r.period_start, period_start),
            min(r.period_end, period_end),
            r.availability_percent,
            r.mean_response_minutes,
            r.fault_fix_rate_percent,
        )
        for r in session.scalars(
            select(KpiReport).where(
                KpiReport.contract_id == contract.contract_id,
                KpiReport.period_end >= period_start,
                KpiReport.period_start <= period_end,
            )
        )
    ]
    records = session.scalars(
        select(MaintenanceRecord)
        .where(
            MaintenanceRecord.contract_id == contract.contract_id,
            MaintenanceRecord.period_end >= period_start,
            MaintenanceRecord.period_end <= period_end,
        )
        .order_by(MaintenanceRecord.period_start, MaintenanceRecord.item)
    ).all()
    missed = tuple(f"{r.item} ({r.period_start})" for r in records if r.status == MISSED)
    return evaluate(targets, reports, MaintenanceCompliance(len(records), missed))


def _frequency(contract: WatchedContract, item: str) -> Frequency:
    for entry in contract.maintenance_schedule:
        if entry["item"] == item:
            return Frequency(entry["frequency"])
    known = ", ".join(repr(e["item"]) for e in contract.maintenance_schedule) or "none"
    raise SupervisionInvalid(
        "item",
        f"{item!r} is not in contract {contract.contract_id}'s maintenance schedule ({known})",
    )


def _record(
    session: Session, contract_id: str, item: str, start: dt.date
) -> MaintenanceRecord | None:
    return session.scalar(
        select(MaintenanceRecord).where(
            MaintenanceRecord.contract_id == contract_id,
            MaintenanceRecord.item == item,
            MaintenanceRecord.period_start == start,
        )
    )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
