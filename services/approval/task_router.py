"""Routing opened approval tasks to their approvers: assignee, link nonce, email.

The workflow opens one `decide` task per approver of a level; the approver (after
delegation) is in the task's `approver` variable. Routing runs right after each step the
approval service takes itself, and as a worker job for steps taken by the timer
scheduler (escalations), so no opened task stays unrouted.
"""

from __future__ import annotations

import datetime as dt
import logging
from uuid import UUID

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from contractflow.db import unit_of_work
from contractflow.workflow import WorkflowRuntime
from contractflow.workflow.instances import LiveInstance
from contractflow.workflow.models import HumanTaskRow
from services.approval.links import new_nonce
from services.approval.mails import ApprovalMails
from services.approval.models import ApprovalTask

log = logging.getLogger(__name__)
DECISION_FORM = "approval_decision"

# Decision tasks the workflow opened that have no approval task yet. Built once: a routing
# runs after every decision and every opened level, and building and keying the statement
# each time cost more than running it.
_UNROUTED = (
    select(HumanTaskRow)
    .outerjoin(ApprovalTask, ApprovalTask.task_id == HumanTaskRow.id)
    .where(
        HumanTaskRow.form_key == DECISION_FORM,
        HumanTaskRow.status == "open",
        ApprovalTask.task_id.is_(None),
    )
    .order_by(HumanTaskRow.created_at, HumanTaskRow.id)
    .execution_options(populate_existing=True)
)
_UNROUTED_OF_INSTANCE = _UNROUTED.where(HumanTaskRow.instance_id == bindparam("instance_id"))


class TaskRouter:
    def __init__(self, runtime: WorkflowRuntime, mails: ApprovalMails) -> None:
        self.runtime, self.mails = runtime, mails

    def unrouted(self, session: Session, instance_id: str | None = None) -> list[HumanTaskRow]:
        if instance_id is None:
            return list(session.scalars(_UNROUTED))
        return list(session.scalars(_UNROUTED_OF_INSTANCE, {"instance_id": instance_id}))

    def route(self, session: Session, instance_id: str | None = None) -> int:
        rows = self.unrouted(session, instance_id)
        now = self.runtime.clock()
        for row in rows:
            self._route_one(session, row, now)
        return len(rows)

    def route_after_step(self, session: Session, live: LiveInstance) -> int:
        """Route what a step of `live` left open: when it left no human task open (the
        approval ended), there is nothing to look for."""
        if live.waits is not None and not live.open_task_ids:
            return 0
        return self.route(session, live.id)

    def _route_one(self, session: Session, row: HumanTaskRow, now: dt.datetime) -> None:
        live = self.runtime.store.load(session, row.instance_id)
        spiff_task = live.workflow.get_task_from_id(UUID(row.id))
        approver = spiff_task.data["approver"]
        level = spiff_task.data["level"]
        request_id = spiff_task.data["request_id"]
        self.runtime.reassign(
            session, row.id, approver["person_id"], actor="approval-router", admin=True
        )
        task = ApprovalTask(
            task_id=row.id,
            request_id=request_id,
            instance_id=row.instance_id,
            level=int(level["number"]),
            role=approver["role"],
            person_id=approver["person_id"],
            on_behalf_of=approver.get("on_behalf_of"),
            escalated_from=approver.get("escalated_from"),
            link_nonce=new_nonce(),
            status="open",
            reminders_sent=0,
            created_at=now,
        )
        session.add(task)
        session.flush()
        self.mails.queue(session, task, "approval-request", now)


def routing_job(sessions: sessionmaker[Session], router: TaskRouter):
    def run_once() -> int:
        with unit_of_work(sessions) as session:
            return router.route(session)

    return run_once
