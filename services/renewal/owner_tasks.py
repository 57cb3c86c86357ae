"""Tasks for a contract's owner: each is a small workflow instance whose user task lands
in the kernel's inbox (`/workflow/tasks`), assigned to the owner when one is named."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from contractflow.workflow import TaskFilter, WorkflowRuntime, human_tasks
from contractflow.workflow.models import HumanTaskRow
from services.renewal.models import WatchedContract

WATCH_ACTOR = "renewal-watch"


def open_task(
    session: Session,
    runtime: WorkflowRuntime,
    process_id: str,
    contract: WatchedContract,
    variables: dict[str, Any],
    now: dt.datetime,
) -> str | None:
    """Start `process_id` for the contract; answers the id of the task it opened."""
    live = runtime.start(
        session,
        process_id,
        contract_id=contract.contract_id,
        variables={"title": contract.title, **variables},
        started_by=WATCH_ACTOR,
        channel="timer",
        now=now,
    )
    task = next(iter(runtime.tasks(session, TaskFilter(instance_id=live.id))), None)
    if task is None:
        return None
    if contract.owner_id:
        human_tasks.set_assignee(session, task, contract.owner_id)
    return task.id


def withdraw_task(
    session: Session, runtime: WorkflowRuntime, task_id: str | None, reason: str
) -> bool:
    """Cancel the instance of a task that is still open (or claimed), because what it asks
    about no longer holds; `reason` is its end reason, which the owner reads. False when
    the owner dealt with it already (the answer stands)."""
    task = session.get(HumanTaskRow, task_id) if task_id else None
    if task is None or task.status not in human_tasks.ACTIVE:
        return False
    runtime.cancel(session, task.instance_id, reason, actor=WATCH_ACTOR)
    return True
