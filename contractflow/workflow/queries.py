"""Read side of the runtime: instance details, lists, history, inbox and incidents."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.workflow import history, human_tasks, incidents
from contractflow.workflow.errors import NotFound
from contractflow.workflow.models import InstanceRow


@dataclass(frozen=True)
class InstanceSummary:
    id: str
    process_id: str
    definition_id: int
    contract_id: str | None
    status: str
    version: int
    started_by: str
    started_at: dt.datetime
    updated_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str | None

    @classmethod
    def of(cls, row: Any) -> InstanceSummary:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    @classmethod
    def of_live(cls, live: Any) -> InstanceSummary:
        """The row as the live instance's last step wrote it."""
        return cls.of(live)


@dataclass(frozen=True)
class InstanceDetails:
    summary: InstanceSummary
    variables: dict[str, Any]
    open_tasks: list[human_tasks.HumanTask]
    waiting_for: list[dict[str, Any]]
    history: list[history.HistoryEntry]


class RuntimeQueries:
    store: Any

    def instance(
        self, session: Session, instance_id: str, *, with_variables: bool = True
    ) -> InstanceDetails:
        """`with_variables=False` leaves `variables` empty, for a caller that shows none
        (negotiation's contract view): they are the latest task's whole data, converted
        value by value."""
        # The summary is the row's head as the store reads it (NotFound if there is none):
        # an ORM load of the row would read its whole state a second time.
        live = self.store.read(session, instance_id)
        workflow = live.workflow
        variables: dict[str, Any] = {}
        if with_variables:
            completed = workflow.is_completed()
            variables = dict(workflow.data) if completed else _latest_data(workflow)
        waiting = [
            {
                "name": e.name,
                "type": e.event_type,
                "value": e.value if isinstance(e.value, str | dict | None) else str(e.value),
            }
            for e in workflow.waiting_events()
        ]
        tasks = human_tasks.listing(session, human_tasks.TaskFilter(instance_id=instance_id))
        return InstanceDetails(
            InstanceSummary.of_live(live),
            _jsonable(variables),
            tasks,
            waiting,
            history.of_instance(session, instance_id),
        )

    def instances(
        self,
        session: Session,
        *,
        process_id: str | None = None,
        status: str | None = None,
        contract_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[InstanceSummary]:
        query = select(InstanceRow).order_by(InstanceRow.started_at.desc(), InstanceRow.id)
        if process_id:
            query = query.where(InstanceRow.process_id == process_id)
        if status:
            query = query.where(InstanceRow.status == status)
        if contract_id:
            query = query.where(InstanceRow.contract_id == contract_id)
        return [
            InstanceSummary.of(r)
            for r in session.scalars(
                query.limit(limit).offset(offset).execution_options(populate_existing=True)
            )
        ]

    def history(self, session: Session, instance_id: str) -> list[history.HistoryEntry]:
        if session.get(InstanceRow, instance_id) is None:
            raise NotFound(f"workflow instance {instance_id} does not exist")
        return history.of_instance(session, instance_id)

    def tasks(
        self, session: Session, task_filter: human_tasks.TaskFilter
    ) -> list[human_tasks.HumanTask]:
        return human_tasks.listing(session, task_filter)

    def task(self, session: Session, task_id: str) -> human_tasks.HumanTask:
        return human_tasks.get(session, task_id)

    def incidents(
        self,
        session: Session,
        status: str | None = incidents.OPEN,
        instance_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[incidents.Incident]:
        return incidents.listing(session, status, instance_id, limit, offset)


def _latest_data(workflow: Any) -> dict[str, Any]:
    """Variables as the most recently completed task left them."""
    task = workflow.last_task or workflow.task_tree
    return dict(task.data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
