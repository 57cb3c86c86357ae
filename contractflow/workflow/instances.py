"""Instance rows: load and save workflow state with optimistic concurrency and a live cache.

Saving is `UPDATE ... WHERE id = :id AND version = :read_version`: of two writers that
read the same version exactly one succeeds, the other gets InstanceConflict.

Restoring a workflow is the largest cost of a step, so the store keeps recently used live
workflow objects. One is reused only when the row still has the version it was saved as,
and it enters the cache only after its transaction commits (a rolled-back step must not
leave a workflow that never became durable).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import event
from sqlalchemy.orm import Session

from contractflow.workflow.batch import (
    INSERT_INSTANCE,
    INSTANCE_HEAD,
    INSTANCE_HEAD_AND_STATE,
    INSTANCE_STATE,
    SAVE_INSTANCE,
    Burst,
    read_one,
    utc,
)
from contractflow.workflow.definitions import SpecCache
from contractflow.workflow.engine import STATE_FORMAT, WorkflowEngine
from contractflow.workflow.errors import InstanceConflict, NotFound

_PENDING = "contractflow.workflow.pending"


class _Head(NamedTuple):
    """The columns of INSTANCE_HEAD, in its order."""

    version: int
    status: str
    definition_id: int
    process_id: str
    contract_id: str | None
    started_by: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str | None
    updated_at: dt.datetime


@dataclass
class LiveInstance:
    id: str
    definition_id: int
    process_id: str
    contract_id: str | None
    status: str
    version: int
    started_by: str
    started_at: dt.datetime
    workflow: Any
    ended_at: dt.datetime | None = None
    end_reason: str | None = None
    updated_at: dt.datetime | None = None  # when the last step saved it
    # What the persisted state waits for (derived rows as written); None = not computed.
    waits: Any = None

    @property
    def open_task_ids(self) -> list[str]:
        """Human tasks open after the last step (what a client completes next)."""
        return list(self.waits.human) if self.waits is not None else []


class LiveCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, LiveInstance] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: str) -> LiveInstance | None:
        """Remove and return: whoever takes an instance owns it until commit."""
        with self._lock:
            return self._items.pop(instance_id, None)

    def put(self, live: LiveInstance) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            current = self._items.get(live.id)
            if current is not None and current.version > live.version:
                return
            self._items[live.id] = live
            self._items.move_to_end(live.id)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _after_commit(session: Session) -> None:
    for cache, live in session.info.pop(_PENDING, {}).values():
        cache.put(live)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def install_session_hooks() -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


class InstanceStore:
    def __init__(self, engine: WorkflowEngine, specs: SpecCache, cache_size: int = 2000) -> None:
        self.engine = engine
        self.specs = specs
        self.cache = LiveCache(cache_size)
        install_session_hooks()

    def insert(self, session: Session, live: LiveInstance, now: dt.datetime) -> None:
        burst = Burst()
        self.queue_insert(session, burst, live, now)
        burst.flush(session)

    def queue_insert(
        self, session: Session, burst: Burst, live: LiveInstance, now: dt.datetime
    ) -> None:
        """Add the new instance's row to the step's write burst."""
        burst.add(
            INSERT_INSTANCE,
            [
                {
                    "id": live.id,
                    "definition_id": live.definition_id,
                    "process_id": live.process_id,
                    "contract_id": live.contract_id,
                    "status": live.status,
                    "version": live.version,
                    "state_format": STATE_FORMAT,
                    "state": self.engine.dump(live.workflow),
                    "started_by": live.started_by,
                    "started_at": live.started_at,
                    "updated_at": now,
                    "ended_at": live.ended_at,
                    "end_reason": live.end_reason,
                }
            ],
        )
        live.updated_at = now
        self._pending(session)[live.id] = (self.cache, live)

    def load(
        self, session: Session, instance_id: str, known_version: int | None = None
    ) -> LiveInstance:
        """The instance as committed; `known_version` (read in this transaction already,
        e.g. joined to a human task) lets a cached live instance skip the row read."""
        pending = self._pending(session).get(instance_id)
        if pending is not None:
            return pending[1]
        cached = self.cache.take(instance_id)
        if cached is not None and known_version is not None and cached.version == known_version:
            return cached
        # The statements are built once; on PostgreSQL the read goes through psycopg.
        row = read_one(
            session,
            INSTANCE_HEAD if cached is not None else INSTANCE_HEAD_AND_STATE,
            {"b_id": instance_id},
        )
        if row is None:
            raise NotFound(f"workflow instance {instance_id} does not exist")
        head = _Head(*row[:10])
        if cached is not None and cached.version == head.version:
            live = cached
        else:
            if cached is None:
                state, state_format = row[10], row[11]
            else:
                state, state_format = read_one(session, INSTANCE_STATE, {"b_id": instance_id})  # type: ignore[misc]
            bundle = self.specs.get(session, head.definition_id, head.process_id)
            workflow = self.engine.load(
                bytes(state), state_format, bundle.spec, bundle.subprocess_specs
            )
            live = LiveInstance(
                instance_id,
                head.definition_id,
                head.process_id,
                head.contract_id,
                head.status,
                head.version,
                head.started_by,
                utc(head.started_at),  # type: ignore[arg-type]
                workflow,
            )
        live.status, live.ended_at, live.end_reason, live.updated_at = (
            head.status,
            utc(head.ended_at),
            head.end_reason,
            utc(head.updated_at),
        )
        return live

    def read(self, session: Session, instance_id: str) -> LiveInstance:
        """Load for reading only: the live object stays available to the next step."""
        live = self.load(session, instance_id)
        if live.id not in self._pending(session):
            self.cache.put(live)
        return live

    def save(self, session: Session, live: LiveInstance, now: dt.datetime) -> None:
        burst = Burst()
        self.queue_save(session, burst, live, now)
        burst.flush(session)

    def queue_save(
        self, session: Session, burst: Burst, live: LiveInstance, now: dt.datetime
    ) -> None:
        """Add `UPDATE ... WHERE version = :read_version` to the step's write burst; its
        row count is checked when the burst is sent (InstanceConflict if not 1)."""

        def check(rowcount: int) -> None:
            if rowcount != 1:
                self.cache.take(live.id)
                raise InstanceConflict(
                    f"workflow instance {live.id} was changed by someone else "
                    f"(version {live.version} is no longer current); reload and retry"
                )
            live.version += 1
            live.updated_at = now
            self._pending(session)[live.id] = (self.cache, live)

        burst.add(
            SAVE_INSTANCE,
            {
                "b_id": live.id,
                "b_version": live.version,
                "new_version": live.version + 1,
                "status": live.status,
                "state_format": STATE_FORMAT,
                "state": self.engine.dump(live.workflow),
                "updated_at": now,
                "ended_at": live.ended_at,
                "end_reason": live.end_reason,
            },
            check,
        )

    @staticmethod
    def _pending(session: Session) -> dict[str, tuple[LiveCache, LiveInstance]]:
        return session.info.setdefault(_PENDING, {})
