"""The task inbox: human task rows, their forms, claiming, delegation and completion rows.

A user task declares a form key (`formKey` property); the service registers a marshmallow
schema for it, and completion data must load through that schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from contractflow.schema_errors import name_allowed_fields
from contractflow.workflow import batch
from contractflow.workflow.errors import FormInvalid, NotFound, TaskNotOpen
from contractflow.workflow.models import HumanTaskRow

OPEN, CLAIMED, COMPLETED, CANCELLED = "open", "claimed", "completed", "cancelled"
ACTIVE = (OPEN, CLAIMED)


# A service's own rule for what the generic task API may do with tasks of one form:
# (session, task, action "complete" or "reassign", the data or assignee sent). It raises a
# WorkflowError (or a problem) to refuse; a service that decides such tasks through its own
# routes refuses the generic ones, naming its route.
TaskGuard = Callable[[Session, "HumanTask", str, Any], None]


class FormRegistry:
    def __init__(self) -> None:
        self._schemas: dict[str, Schema] = {}
        self._guards: dict[str, TaskGuard] = {}

    def register(self, form_key: str, schema: type[Schema] | Schema) -> None:
        if form_key in self._schemas:
            raise ValueError(f"form {form_key!r} is registered twice")
        # One instance per form: building a schema deep-copies its fields, and loading
        # does not change it, so completions share it.
        self._schemas[form_key] = schema() if isinstance(schema, type) else schema

    def guard(self, form_key: str, check: TaskGuard) -> None:
        """`check` runs before the generic task API completes or reassigns a task of this
        form, in the request's transaction."""
        if form_key in self._guards:
            raise ValueError(f"form {form_key!r} is guarded twice")
        self._guards[form_key] = check

    def guard_for(self, form_key: str | None) -> TaskGuard | None:
        return self._guards.get(form_key) if form_key is not None else None

    @property
    def guarded(self) -> bool:
        return bool(self._guards)

    def __contains__(self, form_key: object) -> bool:
        return form_key in self._schemas

    def names(self) -> set[str]:
        return set(self._schemas)

    def load(self, task_id: str, form_key: str | None, data: Any) -> dict[str, Any]:
        """The data loaded through the form's schema, JSON-shaped for the workflow."""
        if not isinstance(data, dict):
            raise FormInvalid(task_id, form_key, {"_schema": ["task data must be an object"]})
        if form_key is None:
            return dict(data)
        registered = self._schemas.get(form_key)
        if registered is None:
            raise LookupError(f"no form schema is registered for form key {form_key!r}")
        try:
            loaded = registered.load(data)
        except ValidationError as exc:
            messages = (
                name_allowed_fields(registered, exc.messages)
                if isinstance(exc.messages, dict)
                else {"_schema": exc.messages}
            )
            raise FormInvalid(task_id, form_key, messages) from None
        return dict(loaded)


@dataclass(frozen=True)
class HumanTask:
    id: str
    instance_id: str
    process_id: str
    element_id: str
    name: str
    form_key: str | None
    candidate_role: str | None
    assignee: str | None
    contract_id: str | None
    status: str
    created_at: dt.datetime
    due_at: dt.datetime | None
    completed_at: dt.datetime | None
    completed_by: str | None

    @classmethod
    def of(cls, row: Any) -> HumanTask:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class TaskFilter:
    assignee: str | None = None
    candidate_roles: tuple[str, ...] | None = None
    contract_id: str | None = None
    instance_id: str | None = None
    status: tuple[str, ...] = ACTIVE
    due_before: dt.datetime | None = None
    due_after: dt.datetime | None = None
    visible_to: tuple[str, frozenset[str]] | None = None  # (user, roles): own or claimable
    limit: int = 100
    offset: int = 0


def insert_tasks(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(insert(HumanTaskRow), rows)


def cancel_tasks(session: Session, task_ids: list[str]) -> None:
    if task_ids:
        session.connection().execute(
            update(HumanTaskRow)
            .where(HumanTaskRow.id.in_(task_ids), HumanTaskRow.status.in_(ACTIVE))
            .values(status=CANCELLED)
            .execution_options(synchronize_session=False)
        )


def get(session: Session, task_id: str) -> HumanTask:
    # populate_existing: rows change through Core updates the identity map never sees
    row = session.get(HumanTaskRow, task_id, populate_existing=True)
    if row is None:
        raise NotFound(f"human task {task_id} does not exist")
    return HumanTask.of(row)


def read_and_complete(
    session: Session, task_id: str, actor: str, now: dt.datetime
) -> tuple[HumanTask, int, bool]:
    """Completion's first round trip: the task as it was, its instance's version, and
    whether the row was marked completed by `actor` (False: it was not open any more).

    The mark goes in the same round trip as the read, before the caller has checked who
    may complete the task or its form: a caller refusing the completion after this must
    `restore_row` (or roll back) — code inside the step reads the row as completed."""
    row, (marked,) = batch.read_one_then(
        session,
        batch.TASK_WITH_INSTANCE_VERSION,
        {"b_id": task_id},
        [(batch.COMPLETE_HUMAN_TASK, {"b_id": task_id, "completed_at": now, "actor": actor})],
    )
    if row is None:
        raise NotFound(f"human task {task_id} does not exist")
    (*fields, version) = row
    for i in _DATETIME_FIELDS:
        fields[i] = batch.utc(fields[i])
    return HumanTask(*fields), version, marked == 1


def restore_row(session: Session, task: HumanTask) -> None:
    """Undo read_and_complete's mark: the row as `task` (read before it) had it."""
    burst = batch.Burst()
    burst.add(
        batch.RESTORE_HUMAN_TASK,
        {"b_id": task.id, "status": task.status, "assignee": task.assignee},
    )
    burst.flush(session)


_DATETIME_FIELDS = [
    i
    for i, name in enumerate(batch.HUMAN_TASK_COLUMNS)
    if name in ("created_at", "due_at", "completed_at")
]


def set_assignee(session: Session, task: HumanTask, assignee: str | None) -> HumanTask:
    """Claim, delegate or release; answers with the task as changed."""
    status = CLAIMED if assignee else OPEN
    result = session.connection().execute(
        update(HumanTaskRow)
        .where(
            HumanTaskRow.id == task.id,
            HumanTaskRow.status == task.status,
            _same(HumanTaskRow.assignee, task.assignee),
        )
        .values(assignee=assignee, status=status)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise TaskNotOpen(f"human task {task.id} changed meanwhile; reload and retry")
    return replace(task, assignee=assignee, status=status)


def mark_completed(session: Session, task: HumanTask, actor: str, now: dt.datetime) -> None:
    result = session.connection().execute(
        update(HumanTaskRow)
        .where(HumanTaskRow.id == task.id, HumanTaskRow.status.in_(ACTIVE))
        .values(status=COMPLETED, completed_at=now, completed_by=actor, assignee=actor)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise TaskNotOpen(f"human task {task.id} was completed or cancelled meanwhile")


def listing(session: Session, f: TaskFilter) -> list[HumanTask]:
    # Table columns through the connection, not entities through the ORM: the inbox is
    # read often, the rows become HumanTask anyway, and human task rows are only ever
    # written through Core (nothing for an autoflush to send first). One statement per
    # combination of filters used, built once, values bound per call.
    shape = (
        f.assignee is not None,
        f.candidate_roles is not None,
        f.contract_id is not None,
        f.instance_id is not None,
        f.due_before is not None,
        f.due_after is not None,
        f.visible_to is not None,
    )
    query = _LISTINGS.get(shape)
    if query is None:
        query = _LISTINGS.setdefault(shape, _listing_query(*shape))
    user, roles = f.visible_to if f.visible_to is not None else (None, frozenset[str]())
    params = {
        "status": list(f.status),
        "assignee": f.assignee,
        "candidate_roles": list(f.candidate_roles or ()),
        "contract_id": f.contract_id,
        "instance_id": f.instance_id,
        "due_before": f.due_before,
        "due_after": f.due_after,
        "user": user,
        "roles": list(roles),
        "limit": f.limit,
        "offset": f.offset,
    }
    return [HumanTask(*r) for r in session.connection().execute(query, params)]


def _listing_query(
    assignee: bool,
    candidate_roles: bool,
    contract_id: bool,
    instance_id: bool,
    due_before: bool,
    due_after: bool,
    visible_to: bool,
) -> Any:
    c = _TABLE.c
    query = select(*_COLUMNS).where(c.status.in_(bindparam("status", expanding=True)))
    if assignee:
        query = query.where(c.assignee == bindparam("assignee"))
    if candidate_roles:
        query = query.where(c.candidate_role.in_(bindparam("candidate_roles", expanding=True)))
    if contract_id:
        query = query.where(c.contract_id == bindparam("contract_id"))
    if instance_id:
        query = query.where(c.instance_id == bindparam("instance_id"))
    if due_before:
        query = query.where(c.due_at <= bindparam("due_before"))
    if due_after:
        query = query.where(c.due_at >= bindparam("due_after"))
    if visible_to:
        roles: Any = bindparam("roles", expanding=True)
        query = query.where(
            (c.assignee == bindparam("user"))
            | ((c.assignee.is_(None)) & c.candidate_role.in_(roles))
            | ((c.assignee.is_(None)) & c.candidate_role.is_(None))
        )
    return (
        query.order_by(c.due_at, c.created_at, c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


_TABLE = HumanTaskRow.__table__
_COLUMNS = [_TABLE.c[name] for name in HumanTask.__dataclass_fields__]
_LISTINGS: dict[tuple[bool, ...], Any] = {}


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value
