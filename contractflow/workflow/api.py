"""The workflow HTTP API: instances, the task inbox and incidents, as a Flask blueprint.

Views only translate: load the request, call the runtime in one unit of work, render.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy.orm import Session, sessionmaker

from contractflow.auth import current_principal, require_roles
from contractflow.db import unit_of_work
from contractflow.web import ProblemError, api_doc, load_json, load_query
from contractflow.workflow import api_schemas as s
from contractflow.workflow.errors import FormInvalid, WorkflowError
from contractflow.workflow.human_tasks import ACTIVE, HumanTask, TaskFilter
from contractflow.workflow.queries import InstanceSummary
from contractflow.workflow.runtime import WorkflowRuntime

TAGS = ("workflow",)


@contextmanager
def workflow_problems() -> Iterator[None]:
    """Runtime errors as the problem+json answers a client can act on (422, 404, 409…)."""
    try:
        yield
    except FormInvalid as exc:
        raise ProblemError(422, exc.title, str(exc), errors=exc.errors) from None
    except WorkflowError as exc:
        raise ProblemError(exc.status, exc.title, str(exc)) from None


def make_workflow_blueprint(
    runtime: WorkflowRuntime,
    sessions: sessionmaker[Session],
    *,
    admin_role: str = "workflow-admin",
    starter_roles: tuple[str, ...] = ("workflow-admin",),
    url_prefix: str = "/workflow",
) -> Blueprint:
    bp = Blueprint("workflow", __name__, url_prefix=url_prefix)
    # Schemas built once: building one deep-copies its fields, which cost as much as the
    # load or dump itself. Loading and dumping do not change a schema, so views share them.
    start_body, started_out = s.StartInstanceBody(), s.StartedInstanceOut()
    instance_out, task_out = s.InstanceOut(), s.HumanTaskOut()
    complete_body = s.CompleteTaskBody()

    @contextmanager
    def work() -> Iterator[Session]:
        with workflow_problems(), unit_of_work(sessions) as session:
            yield session

    def is_admin() -> bool:
        return admin_role in current_principal().roles

    @bp.post("/instances")
    @require_roles(*starter_roles)
    @api_doc(
        "Start a workflow instance",
        body=s.StartInstanceBody,
        response=s.StartedInstanceOut,
        status=201,
        tags=TAGS,
    )
    def start() -> Any:
        body = load_json(start_body)
        with work() as session:
            live = runtime.start(
                session,
                body["process_id"],
                contract_id=body["contract_id"],
                variables=body["variables"],
                started_by=current_principal().user_id,
            )
        # What the step wrote, from the live instance: no second read of what it just saved.
        started = {**_asdict(InstanceSummary.of_live(live)), "open_task_ids": live.open_task_ids}
        return jsonify(started_out.dump(started)), 201

    @bp.get("/instances")
    @require_roles(admin_role)
    @api_doc(
        "List and filter instances", query=s.InstanceQuery, response=s.InstanceListOut, tags=TAGS
    )
    def list_instances() -> Any:
        q = load_query(s.InstanceQuery())
        with work() as session:
            found = runtime.instances(session, **q)
        return jsonify(instances=[_dump(instance_out, i) for i in found])

    @bp.get("/instances/<instance_id>")
    @require_roles(admin_role)
    @api_doc(
        "An instance: state, open tasks, variables, history",
        response=s.InstanceDetailsOut,
        tags=TAGS,
    )
    def get_instance(instance_id: str) -> Any:
        with work() as session:
            d = runtime.instance(session, instance_id)
        body = {
            **_asdict(d.summary),
            "variables": d.variables,
            "open_tasks": [_asdict(t) for t in d.open_tasks],
            "waiting_for": d.waiting_for,
            "history": [_asdict(h) for h in d.history],
        }
        return jsonify(s.InstanceDetailsOut().dump(body))

    @bp.post("/instances/<instance_id>/cancel")
    @require_roles(admin_role)
    @api_doc(
        "Cancel an instance, with a reason", body=s.CancelBody, response=s.InstanceOut, tags=TAGS
    )
    def cancel(instance_id: str) -> Any:
        body = load_json(s.CancelBody())
        with work() as session:
            runtime.cancel(session, instance_id, body["reason"], actor=current_principal().user_id)
            summary = runtime.instance(session, instance_id).summary
        return _render(instance_out, summary)

    @bp.get("/instances/<instance_id>/history")
    @require_roles(admin_role)
    @api_doc("The step-by-step audit log of an instance", response=s.HistoryOut, tags=TAGS)
    def instance_history(instance_id: str) -> Any:
        with work() as session:
            entries = runtime.history(session, instance_id)
        return jsonify(history=[s.HistoryEntryOut().dump(_asdict(e)) for e in entries])

    @bp.get("/tasks")
    @require_roles()
    @api_doc(
        "The task inbox: tasks you may work on, filtered",
        query=s.TaskQuery,
        response=s.TaskListOut,
        tags=TAGS,
    )
    def list_tasks() -> Any:
        q = load_query(s.TaskQuery())
        me = current_principal()
        roles = (q["candidate_role"],) if q["candidate_role"] else None
        task_filter = TaskFilter(
            assignee=q["assignee"],
            candidate_roles=roles,
            contract_id=q["contract_id"],
            instance_id=q["instance_id"],
            status=(q["status"],) if q["status"] else ACTIVE,
            due_before=q["due_before"],
            due_after=q["due_after"],
            visible_to=None if is_admin() else (me.user_id, me.roles),
            limit=q["limit"],
            offset=q["offset"],
        )
        with work() as session:
            found = runtime.tasks(session, task_filter)
        return jsonify(tasks=[_dump(task_out, t) for t in found])

    @bp.get("/tasks/<task_id>")
    @require_roles()
    @api_doc("One human task", response=s.HumanTaskOut, tags=TAGS)
    def get_task(task_id: str) -> Any:
        with work() as session:
            task = runtime.task(session, task_id)
        me = current_principal()
        visible = (
            is_admin()
            or task.assignee == me.user_id
            or (
                task.assignee is None
                and (task.candidate_role is None or task.candidate_role in me.roles)
            )
        )
        if not visible:
            raise ProblemError(404, "Not found", f"human task {task_id} does not exist")
        return _render(task_out, task)

    def task_action(
        action: Callable[[Session], HumanTask], guarded: tuple[str, str, Any] | None = None
    ) -> Any:
        """Run an action that answers with the task as it left it (no second read).
        `guarded` (task id, action, what was sent) first asks the service's guard of the
        task's form, if it registered one (only then is the task read first)."""
        with work() as session:
            if guarded is not None and runtime.forms.guarded:
                task_id, verb, sent = guarded
                current = runtime.task(session, task_id)
                check = runtime.forms.guard_for(current.form_key)
                if check is not None:
                    check(session, current, verb, sent)
            task = action(session)
        return _render(task_out, task)

    @bp.post("/tasks/<task_id>/claim")
    @require_roles()
    @api_doc(
        "Claim a task (your roles must include its candidate role)",
        response=s.HumanTaskOut,
        tags=TAGS,
    )
    def claim(task_id: str) -> Any:
        me = current_principal()
        return task_action(
            lambda session: runtime.claim(
                session, task_id, actor=me.user_id, roles=me.roles, admin=is_admin()
            )
        )

    @bp.post("/tasks/<task_id>/complete")
    @require_roles()
    @api_doc(
        "Complete a task with its form data",
        body=s.CompleteTaskBody,
        response=s.HumanTaskOut,
        tags=TAGS,
    )
    def complete(task_id: str) -> Any:
        body = load_json(complete_body)
        me = current_principal()
        return task_action(
            lambda session: runtime.complete_task_as_task(
                session,
                task_id,
                body["data"],
                actor=me.user_id,
                roles=me.roles,
                admin=is_admin(),
                channel="api",
            )[1],
            guarded=(task_id, "complete", body["data"]),
        )

    @bp.post("/tasks/<task_id>/reassign")
    @require_roles()
    @api_doc(
        "Delegate (assignee) or reassign (admin) a task; null releases it",
        body=s.ReassignBody,
        response=s.HumanTaskOut,
        tags=TAGS,
    )
    def reassign(task_id: str) -> Any:
        body = load_json(s.ReassignBody())
        me = current_principal()
        return task_action(
            lambda session: runtime.reassign(
                session, task_id, body["assignee"], actor=me.user_id, admin=is_admin()
            ),
            guarded=(task_id, "reassign", body["assignee"]),
        )

    @bp.get("/incidents")
    @require_roles(admin_role)
    @api_doc(
        "Failed tasks waiting for a retry",
        query=s.IncidentQuery,
        response=s.IncidentListOut,
        tags=TAGS,
    )
    def list_incidents() -> Any:
        q = load_query(s.IncidentQuery())
        with work() as session:
            found = runtime.incidents(session, **q)
        return jsonify(incidents=[_dump(s.IncidentOut(), i) for i in found])

    @bp.post("/incidents/<int:incident_id>/retry")
    @require_roles(admin_role)
    @api_doc("Retry the failed task of an incident", response=s.InstanceOut, tags=TAGS)
    def retry(incident_id: int) -> Any:
        with work() as session:
            live = runtime.retry_incident(session, incident_id, actor=current_principal().user_id)
            summary = runtime.instance(session, live.id).summary
        return _render(instance_out, summary)

    return bp


def _asdict(value: Any) -> dict[str, Any]:
    # Shallow: the schema dumps the fields; dataclasses.asdict deep-copies every value.
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


def _dump(schema: Any, value: Any) -> Any:
    return schema.dump(_asdict(value))


def _render(schema: Any, value: Any) -> Any:
    return jsonify(_dump(schema, value))
