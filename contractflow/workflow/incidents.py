"""Incidents: a task that failed, kept with its error and attempts until someone retries it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contractflow.workflow.models import IncidentRow

OPEN, RESOLVED = "open", "resolved"


@dataclass(frozen=True)
class Incident:
    id: int
    instance_id: str
    task_id: str
    element_id: str
    error: str
    attempts: int
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: IncidentRow) -> Incident:
        return cls(
            row.id,
            row.instance_id,
            row.task_id,
            row.element_id,
            row.error,
            row.attempts,
            row.status,
            row.created_at,
            row.updated_at,
        )


def raise_incident(
    session: Session,
    instance_id: str,
    task_id: str,
    element_id: str,
    error: str,
    now: dt.datetime,
) -> IncidentRow:
    """Open an incident, or count one more attempt on the open one for the same task."""
    row = session.scalar(
        select(IncidentRow)
        .where(
            IncidentRow.instance_id == instance_id,
            IncidentRow.task_id == task_id,
            IncidentRow.status == OPEN,
        )
        .execution_options(populate_existing=True)
    )
    if row is None:
        row = IncidentRow(
            instance_id=instance_id,
            task_id=task_id,
            element_id=element_id,
            error=error,
            attempts=1,
            status=OPEN,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.attempts += 1
        row.error = error
        row.updated_at = now
    session.flush()
    return row


def resolve(session: Session, instance_id: str, task_ids: list[str], now: dt.datetime) -> None:
    if task_ids:
        session.connection().execute(
            update(IncidentRow)
            .where(
                IncidentRow.instance_id == instance_id,
                IncidentRow.task_id.in_(task_ids),
                IncidentRow.status == OPEN,
            )
            .values(status=RESOLVED, resolved_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def listing(
    session: Session,
    status: str | None = OPEN,
    instance_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Incident]:
    query = select(IncidentRow).order_by(IncidentRow.id).limit(limit).offset(offset)
    if status:
        query = query.where(IncidentRow.status == status)
    if instance_id:
        query = query.where(IncidentRow.instance_id == instance_id)
    return [
        Incident.of(r) for r in session.scalars(query.execution_options(populate_existing=True))
    ]
