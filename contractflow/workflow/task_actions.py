"""Human task actions of the runtime: complete (with form validation), claim, reassign.

Who may act: the assignee; nobody else while a task is claimed; while it is not, anyone
holding its candidate role (or any caller if it has none); admins always.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from contractflow.workflow import human_tasks
from contractflow.workflow.errors import NotAllowed, TaskNotOpen, WorkflowError
from contractflow.workflow.history import HistoryEntry, write
from contractflow.workflow.instances import LiveInstance
from contractflow.workflow.steps import Step


class HumanTaskActions:
    """Mixed into WorkflowRuntime, which provides the attributes declared here."""

    forms: human_tasks.FormRegistry
    stepper: Any
    clock: Any

    _load_active: Callable[..., LiveInstance]

    def complete_task(
        self,
        session: Session,
        task_id: str,
        data: dict[str, Any],
        *,
        actor: str,
        roles: frozenset[str] | set[str] = frozenset(),
        channel: str = "api",
        admin: bool = False,
        traceparent: str | None = None,
    ) -> LiveInstance:
        live, _task = self.complete_task_as_task(
            session,
            task_id,
            data,
            actor=actor,
            roles=roles,
            channel=channel,
            admin=admin,
            traceparent=traceparent,
        )
        return live

    def complete_task_as_task(
        self,
        session: Session,
        task_id: str,
        data: dict[str, Any],
        *,
        actor: str,
        roles: frozenset[str] | set[str] = frozenset(),
        channel: str = "api",
        admin: bool = False,
        traceparent: str | None = None,
    ) -> tuple[LiveInstance, human_tasks.HumanTask]:
        """complete_task, also answering with the task row as the completion left it."""
        now = self.clock()
        # The row is marked completed in the same round trip as it is read, before the
        # step runs: code inside the step (service operations) may read it.
        task, version, marked = human_tasks.read_and_complete(session, task_id, actor, now)
        try:
            if task.status not in human_tasks.ACTIVE:
                raise TaskNotOpen(f"human task {task_id} is {task.status}")
            if not marked:
                raise TaskNotOpen(f"human task {task_id} was completed or cancelled meanwhile")
            self._check_may_work_on(task, actor, roles, admin)
            loaded = self.forms.load(task_id, task.form_key, data)
            live = self._load_active(session, task.instance_id, version)
        except WorkflowError:
            # Refused: a caller that goes on with its transaction must not keep the mark.
            # (A database error fails the transaction anyway.)
            if marked:
                human_tasks.restore_row(session, task)
            raise

        def complete(step: Step) -> None:
            spiff_task = live.workflow.get_task_from_id(UUID(task_id))
            if spiff_task is None or spiff_task.state != TaskState.READY:
                raise TaskNotOpen(f"human task {task_id} is not ready in instance {live.id}")
            spiff_task.data.update(loaded)
            spiff_task.run()
            step.completed_tasks.add(task_id)
            step.record("task_completed", spiff_task, data)

        self.stepper.run(Step(session, live, now, actor, channel, traceparent), complete)
        completed = replace(
            task,
            status=human_tasks.COMPLETED,
            completed_at=now,
            completed_by=actor,
            assignee=actor,
        )
        return live, completed

    def claim(
        self,
        session: Session,
        task_id: str,
        *,
        actor: str,
        roles: frozenset[str] | set[str] = frozenset(),
        admin: bool = False,
    ) -> human_tasks.HumanTask:
        """Claim the task; answers with the task as claimed."""
        task = human_tasks.get(session, task_id)
        if task.status not in human_tasks.ACTIVE:
            raise TaskNotOpen(f"human task {task_id} is {task.status}")
        if task.assignee not in (None, actor):
            raise TaskNotOpen(f"human task {task_id} is already claimed by {task.assignee}")
        if not admin and task.candidate_role and task.candidate_role not in roles:
            raise NotAllowed(f"claiming task {task_id} needs the role {task.candidate_role!r}")
        claimed = human_tasks.set_assignee(session, task, actor)
        self._audit(session, task, "task_claimed", actor, {"assignee": actor})
        return claimed

    def reassign(
        self,
        session: Session,
        task_id: str,
        assignee: str | None,
        *,
        actor: str,
        admin: bool = False,
    ) -> human_tasks.HumanTask:
        """Delegate (by the assignee) or reassign (by an admin); None releases the task.
        Answers with the task as reassigned."""
        task = human_tasks.get(session, task_id)
        if task.status not in human_tasks.ACTIVE:
            raise TaskNotOpen(f"human task {task_id} is {task.status}")
        if not admin and task.assignee != actor:
            raise NotAllowed(f"only the assignee of task {task_id} or an admin may reassign it")
        reassigned = human_tasks.set_assignee(session, task, assignee)
        self._audit(
            session, task, "task_reassigned", actor, {"from": task.assignee, "to": assignee}
        )
        return reassigned

    @staticmethod
    def _check_may_work_on(
        task: human_tasks.HumanTask, actor: str, roles: Any, admin: bool
    ) -> None:
        if admin or task.assignee == actor:
            return
        if task.assignee is not None:
            raise NotAllowed(f"task {task.id} is assigned to someone else")
        if task.candidate_role and task.candidate_role not in roles:
            raise NotAllowed(f"task {task.id} needs the role {task.candidate_role!r}")

    def _audit(
        self, session: Session, task: human_tasks.HumanTask, kind: str, actor: str, data: Any
    ) -> None:
        write(
            session,
            [
                HistoryEntry(
                    task.instance_id,
                    self.clock(),
                    kind,
                    task.element_id,
                    task.id,
                    actor,
                    "api",
                    data,
                )
            ],
        )
