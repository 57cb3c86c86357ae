"""Small helpers the workflow tests share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from contractflow.db import unit_of_work
from contractflow.events.outbox import OutboxMessage
from contractflow.workflow import TaskFilter, WorkflowRuntime
from contractflow.workflow.models import InstanceRow, TimerRow


def open_tasks(
    runtime: WorkflowRuntime, sessions: sessionmaker[Session], instance_id: str
) -> dict[str, Any]:
    with unit_of_work(sessions) as session:
        return {
            t.element_id: t for t in runtime.tasks(session, TaskFilter(instance_id=instance_id))
        }


def complete(
    runtime: WorkflowRuntime,
    sessions: sessionmaker[Session],
    instance_id: str,
    element_id: str,
    data: dict[str, Any] | None = None,
    actor: str = "alice",
) -> None:
    task = open_tasks(runtime, sessions, instance_id)[element_id]
    with unit_of_work(sessions) as session:
        runtime.complete_task(session, task.id, data or {}, actor=actor, admin=True)


def status(sessions: sessionmaker[Session], instance_id: str) -> tuple[str, int]:
    with unit_of_work(sessions) as session:
        row = session.get(InstanceRow, instance_id)
        assert row is not None
        return row.status, row.version


def timers(sessions: sessionmaker[Session], instance_id: str) -> dict[str, Any]:
    with unit_of_work(sessions) as session:
        rows = session.scalars(select(TimerRow).where(TimerRow.instance_id == instance_id))
        return {r.element_id: r.due_at for r in rows}


def outbox_count(sessions: sessionmaker[Session]) -> int:
    with unit_of_work(sessions) as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def start(
    runtime: WorkflowRuntime,
    sessions: sessionmaker[Session],
    process_id: str,
    contract_id: str = "C-1",
    **variables: Any,
) -> str:
    with unit_of_work(sessions) as session:
        return runtime.start(
            session, process_id, contract_id=contract_id, variables=variables, started_by="tester"
        ).id
