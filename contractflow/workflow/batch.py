"""The hot path's SQL: statements built once, and a step's writes sent as one burst.

A step is a few reads and a handful of writes. Building and compiling Core statements
per call cost as much CPU as the engine itself, and each statement was a round trip. So:

- every statement here is built once, at import, with bind parameters;
- on PostgreSQL the step's writes go to psycopg directly, in pipeline mode: all of them
  in one round trip (the first also carries the transaction's BEGIN), and row counts
  are checked after the sync, in the order the statements were queued;
- the first read of a transaction on PostgreSQL is pipelined with its BEGIN;
- elsewhere (SQLite) the same operations run one by one through Core.

Everything still runs in the caller's transaction: nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from contractflow.workflow.models import (
    HeldMessageRow,
    HistoryRow,
    HumanTaskRow,
    InstanceRow,
    SubscriptionRow,
    TimerRow,
)

Check = Callable[[int], None]


@dataclass(frozen=True)
class Op:
    """One statement in two spellings: psycopg SQL for PostgreSQL, Core for the rest.

    Both take the same parameter names; `many` ops take a list of parameter dicts."""

    pg: str
    core: Executable
    many: bool = False
    # For `many` INSERTs: the columns, so PostgreSQL gets one multi-row VALUES statement.
    columns: tuple[str, ...] = ()

    def pg_rows(self, rows: list[dict[str, Any]]) -> tuple[str, list[Any]]:
        """One INSERT for all rows (positional parameters), its text cached per count."""
        sql = _MULTI_ROW.get((self.pg, len(rows)))
        if sql is None:
            one = "(" + ", ".join(["%s"] * len(self.columns)) + ")"
            head = self.pg[: self.pg.index(" VALUES ")]
            sql = f"{head} VALUES " + ", ".join([one] * len(rows))
            _MULTI_ROW[(self.pg, len(rows))] = sql
        return sql, [row[c] for row in rows for c in self.columns]


_MULTI_ROW: dict[tuple[str, int], str] = {}
# More rows than this (a large multi-instance step) go as executemany: the statement text
# cache stays small and PostgreSQL's 65,535 parameter limit out of reach.
MAX_ROWS = 200


def _columns_insert(table: Any, columns: Sequence[str]) -> Op:
    names = ", ".join(columns)
    values = ", ".join(f"%({c})s" for c in columns)
    return Op(
        f"INSERT INTO {table.__tablename__} ({names}) VALUES ({values})",
        insert(table),
        many=True,
        columns=tuple(columns),
    )


INSTANCE_COLUMNS = (
    "id",
    "definition_id",
    "process_id",
    "contract_id",
    "status",
    "version",
    "state_format",
    "state",
    "started_by",
    "started_at",
    "updated_at",
    "ended_at",
    "end_reason",
)
HUMAN_TASK_COLUMNS = (
    "id",
    "instance_id",
    "process_id",
    "element_id",
    "name",
    "form_key",
    "candidate_role",
    "assignee",
    "contract_id",
    "status",
    "created_at",
    "due_at",
    "completed_at",
    "completed_by",
)
HISTORY_COLUMNS = ("instance_id", "at", "kind", "element_id", "task_id", "actor", "channel", "data")
TIMER_COLUMNS = ("instance_id", "task_id", "element_id", "due_at")
SUBSCRIPTION_COLUMNS = ("instance_id", "task_id", "message_name", "correlation_key", "created_at")

INSERT_INSTANCE = _columns_insert(InstanceRow, INSTANCE_COLUMNS)
INSERT_HUMAN_TASKS = _columns_insert(HumanTaskRow, HUMAN_TASK_COLUMNS)
INSERT_HISTORY = _columns_insert(HistoryRow, HISTORY_COLUMNS)
INSERT_TIMERS = _columns_insert(TimerRow, TIMER_COLUMNS)
INSERT_SUBSCRIPTIONS = _columns_insert(SubscriptionRow, SUBSCRIPTION_COLUMNS)

SAVE_INSTANCE = Op(
    "UPDATE workflow_instance SET version = %(new_version)s, status = %(status)s, "
    "state_format = %(state_format)s, state = %(state)s, updated_at = %(updated_at)s, "
    "ended_at = %(ended_at)s, end_reason = %(end_reason)s "
    "WHERE id = %(b_id)s AND version = %(b_version)s",
    update(InstanceRow)
    .where(InstanceRow.id == bindparam("b_id"), InstanceRow.version == bindparam("b_version"))
    .values(
        version=bindparam("new_version"),
        status=bindparam("status"),
        state_format=bindparam("state_format"),
        state=bindparam("state"),
        updated_at=bindparam("updated_at"),
        ended_at=bindparam("ended_at"),
        end_reason=bindparam("end_reason"),
    ),
)

# Human task status values (human_tasks imports this module, so they are spelled here).
_OPEN, _CLAIMED, _COMPLETED, _CANCELLED = "open", "claimed", "completed", "cancelled"

COMPLETE_HUMAN_TASK = Op(
    "UPDATE human_task SET status = 'completed', completed_at = %(completed_at)s, "
    "completed_by = %(actor)s, assignee = %(actor)s "
    "WHERE id = %(b_id)s AND status IN ('open', 'claimed')",
    update(HumanTaskRow)
    .where(HumanTaskRow.id == bindparam("b_id"), HumanTaskRow.status.in_((_OPEN, _CLAIMED)))
    .values(
        status=_COMPLETED,
        completed_at=bindparam("completed_at"),
        completed_by=bindparam("actor"),
        assignee=bindparam("actor"),
    ),
)

RESTORE_HUMAN_TASK = Op(
    "UPDATE human_task SET status = %(status)s, completed_at = NULL, completed_by = NULL, "
    "assignee = %(assignee)s WHERE id = %(b_id)s",
    update(HumanTaskRow)
    .where(HumanTaskRow.id == bindparam("b_id"))
    .values(
        status=bindparam("status"),
        completed_at=None,
        completed_by=None,
        assignee=bindparam("assignee"),
    ),
)

CANCEL_HUMAN_TASKS = Op(
    "UPDATE human_task SET status = 'cancelled' "
    "WHERE id = ANY(%(ids)s) AND status IN ('open', 'claimed')",
    update(HumanTaskRow)
    .where(
        HumanTaskRow.id.in_(bindparam("ids", expanding=True)),
        HumanTaskRow.status.in_((_OPEN, _CLAIMED)),
    )
    .values(status=_CANCELLED),
)

MOVE_TIMER = Op(
    "UPDATE workflow_timer SET due_at = %(due_at)s "
    "WHERE instance_id = %(b_instance_id)s AND task_id = %(b_task_id)s",
    update(TimerRow)
    .where(
        TimerRow.instance_id == bindparam("b_instance_id"),
        TimerRow.task_id == bindparam("b_task_id"),
    )
    .values(due_at=bindparam("due_at")),
)

DELETE_TIMERS = Op(
    "DELETE FROM workflow_timer WHERE instance_id = %(b_instance_id)s AND task_id = ANY(%(ids)s)",
    delete(TimerRow).where(
        TimerRow.instance_id == bindparam("b_instance_id"),
        TimerRow.task_id.in_(bindparam("ids", expanding=True)),
    ),
)

DELETE_SUBSCRIPTIONS = Op(
    "DELETE FROM message_subscription "
    "WHERE instance_id = %(b_instance_id)s AND task_id = ANY(%(ids)s)",
    delete(SubscriptionRow).where(
        SubscriptionRow.instance_id == bindparam("b_instance_id"),
        SubscriptionRow.task_id.in_(bindparam("ids", expanding=True)),
    ),
)

# -- reads ----------------------------------------------------------------------------------
_TASK_COLUMNS = [getattr(HumanTaskRow, c) for c in HUMAN_TASK_COLUMNS]

TASK_WITH_INSTANCE_VERSION = Op(
    "SELECT "
    + ", ".join(f"t.{c}" for c in HUMAN_TASK_COLUMNS)
    + ", i.version FROM human_task t JOIN workflow_instance i ON i.id = t.instance_id "
    "WHERE t.id = %(b_id)s",
    select(*_TASK_COLUMNS, InstanceRow.version.label("instance_version"))
    .join(InstanceRow, InstanceRow.id == HumanTaskRow.instance_id)
    .where(HumanTaskRow.id == bindparam("b_id")),
)

SUBSCRIBER_WITH_INSTANCE_VERSION = Op(
    "SELECT s.instance_id, s.task_id, i.version FROM message_subscription s "
    "JOIN workflow_instance i ON i.id = s.instance_id "
    "WHERE s.message_name = %(name)s AND s.correlation_key = %(key)s "
    "ORDER BY s.created_at LIMIT 1",
    select(SubscriptionRow.instance_id, SubscriptionRow.task_id, InstanceRow.version)
    .join(InstanceRow, InstanceRow.id == SubscriptionRow.instance_id)
    .where(
        SubscriptionRow.message_name == bindparam("name"),
        SubscriptionRow.correlation_key == bindparam("key"),
    )
    .order_by(SubscriptionRow.created_at)
    .limit(1),
)

_HELD_COLUMNS = (
    "event_id",
    "message_name",
    "correlation_key",
    "payload",
    "received_at",
    "expires_at",
)
# Take the oldest live held message for a new subscription: find and delete in one
# statement (a step asks this for every message wait it opens).
TAKE_HELD = Op(
    "DELETE FROM held_message WHERE id = ("
    "SELECT id FROM held_message WHERE message_name = %(name)s "
    "AND correlation_key = %(key)s AND expires_at > %(now)s ORDER BY id LIMIT 1) "
    f"RETURNING {', '.join(_HELD_COLUMNS)}",
    delete(HeldMessageRow)
    .where(
        HeldMessageRow.id
        == select(HeldMessageRow.id)
        .where(
            HeldMessageRow.message_name == bindparam("name"),
            HeldMessageRow.correlation_key == bindparam("key"),
            HeldMessageRow.expires_at > bindparam("now"),
        )
        .order_by(HeldMessageRow.id)
        .limit(1)
        .scalar_subquery()
    )
    .returning(*[getattr(HeldMessageRow, c) for c in _HELD_COLUMNS]),
)

_INSTANCE_HEAD = (
    "version",
    "status",
    "definition_id",
    "process_id",
    "contract_id",
    "started_by",
    "started_at",
    "ended_at",
    "end_reason",
    "updated_at",
)
INSTANCE_HEAD = Op(
    f"SELECT {', '.join(_INSTANCE_HEAD)} FROM workflow_instance WHERE id = %(b_id)s",
    select(*[getattr(InstanceRow, c) for c in _INSTANCE_HEAD]).where(
        InstanceRow.id == bindparam("b_id")
    ),
)
INSTANCE_HEAD_AND_STATE = Op(
    f"SELECT {', '.join(_INSTANCE_HEAD)}, state, state_format FROM workflow_instance "
    "WHERE id = %(b_id)s",
    select(
        *[getattr(InstanceRow, c) for c in _INSTANCE_HEAD],
        InstanceRow.state,
        InstanceRow.state_format,
    ).where(InstanceRow.id == bindparam("b_id")),
)
INSTANCE_STATE = Op(
    "SELECT state, state_format FROM workflow_instance WHERE id = %(b_id)s",
    select(InstanceRow.state, InstanceRow.state_format).where(InstanceRow.id == bindparam("b_id")),
)


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """What UTCDateTime gives back, for values psycopg read directly."""
    return None if value is None else value.astimezone(dt.UTC)


def read_one(session: Session, op: Op, params: dict[str, Any]) -> Sequence[Any] | None:
    """One row (a tuple in the statement's column order) or None.

    On PostgreSQL the query runs in a pipeline, so a transaction's first read carries
    its BEGIN in the same round trip. Datetime columns come back as psycopg reads them
    (aware, in the session's zone): callers pass them through `utc`."""
    row, _counts = read_one_then(session, op, params, ())
    return row


def read_one_then(
    session: Session,
    op: Op,
    params: dict[str, Any],
    writes: Sequence[tuple[Op, dict[str, Any]]],
) -> tuple[Sequence[Any] | None, list[int]]:
    """read_one, with writes sent in the same round trip after it (the read sees the rows
    as they were before them); answers the row and each write's row count."""
    connection = session.connection()
    if not is_postgres(connection):
        row = connection.execute(op.core, params).first()
        return row, [connection.execute(w.core, p).rowcount for w, p in writes]
    raw = connection.connection.driver_connection
    cursors = [raw.cursor() for _ in range(len(writes) + 1)]  # type: ignore[union-attr]
    try:
        with raw.pipeline():  # type: ignore[union-attr]
            cursors[0].execute(op.pg, params)
            for cursor, (write, write_params) in zip(cursors[1:], writes, strict=True):
                cursor.execute(write.pg, write_params)
        return cursors[0].fetchone(), [c.rowcount for c in cursors[1:]]
    except Exception as exc:
        # As SQLAlchemy handles a failed statement: wrapped (IntegrityError, ...), and on
        # a lost connection the pool invalidated (the caller's retry gets a fresh one).
        connection._handle_dbapi_exception(exc, op.pg, params, cursors[0], None)
        raise  # not reached: the handler always raises
    finally:
        for cursor in cursors:
            cursor.close()


@dataclass
class Burst:
    """Writes queued during a step and sent together by `flush`."""

    ops: list[tuple[Op, Any, Check | None]] = field(default_factory=list)

    def add(self, op: Op, params: Any, check: Check | None = None) -> None:
        if op.many and not params:
            return
        self.ops.append((op, params, check))

    def flush(self, session: Session) -> None:
        ops, self.ops = self.ops, []
        if not ops:
            return
        connection = session.connection()
        if not is_postgres(connection):
            for op, params, check in ops:
                result = connection.execute(op.core, params)
                if check is not None:
                    check(result.rowcount)
            return
        raw = connection.connection.driver_connection
        # Statements whose row count is checked get a cursor each; the rest share one.
        shared = raw.cursor()  # type: ignore[union-attr]
        cursors = [shared if check is None else raw.cursor() for _op, _p, check in ops]  # type: ignore[union-attr]
        try:
            try:
                with raw.pipeline():  # type: ignore[union-attr]
                    for cursor, (op, params, _check) in zip(cursors, ops, strict=True):
                        if op.columns and len(params) <= MAX_ROWS:
                            cursor.execute(*op.pg_rows(params))
                        elif op.many:
                            cursor.executemany(op.pg, params)
                        else:
                            cursor.execute(op.pg, params)
            except Exception as exc:
                # A statement failed: a failed check before it explains more (a second
                # writer's INSERT fails on rows the winner wrote; the cause is the lost
                # version race, as when the statements ran one by one).
                for cursor, (_op, _params, check) in zip(cursors, ops, strict=True):
                    if check is None:
                        continue
                    result = cursor.pgresult
                    if result is None or result.error_message:
                        break
                    check(cursor.rowcount)
                connection._handle_dbapi_exception(
                    exc, "; ".join(op.pg for op, _p, _c in ops), None, None, None
                )
            for cursor, (_op, _params, check) in zip(cursors, ops, strict=True):
                if check is not None:
                    check(cursor.rowcount)
        finally:
            for cursor in {id(c): c for c in cursors}.values():
                cursor.close()
            shared.close()
