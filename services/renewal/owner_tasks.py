"""Tasks for a contract's owner: each is a small workflow instance whose user task lands
in the kernel's inbox (`/workflow/tasks`), assigned to the owner when one is named, and
(with `mails`) told to the owner by email in the same transaction, so a rollback sends
nothing and a redelivered event, which opens no second task, sends no second mail."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session

from contractflow.workflow import TaskFilter, WorkflowRuntime, human_tasks
from contractflow.workflow.models import HumanTaskRow
from services.renewal.mails import RenewalMails
from services.renewal.models import WatchedContract

log = logging.getLogger(__name__)
WATCH_ACTOR = "renewal-watch"


def open_task(
    session: Session,
    runtime: WorkflowRuntime,
    process_id: str,
    contract: WatchedContract,
    variables: dict[str, Any],
    now: dt.datetime,
    *,
    mails: RenewalMails | None,
) -> str | None:
    """Start `process_id` for the contract; answers the id of the task it opened.

    `mails`: the owner is mailed about the task (`RenewalMails.queue_owner_task`, the
    task's variables); None where the caller sends its own, fuller mail (reminders,
    missed maintenance)."""
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
    if mails is not None and not mails.queue_owner_task(
        session, contract, process_id, task.id, variables, now
    ):
        log.warning(
            "contract %s has no owner email: %s task %s opened without a mail",
            contract.contract_id,
            process_id,
            task.id,
        )
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
