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
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from contractflow.workflow.definitions import SpecCache
from contractflow.workflow.engine import STATE_FORMAT, WorkflowEngine
from contractflow.workflow.errors import InstanceConflict, NotFound
from contractflow.workflow.models import InstanceRow

_PENDING = "contractflow.workflow.pending"


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
        session.connection().execute(
            insert(InstanceRow),
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
        columns = [
            InstanceRow.version,
            InstanceRow.status,
            InstanceRow.definition_id,
            InstanceRow.process_id,
            InstanceRow.contract_id,
            InstanceRow.started_by,
            InstanceRow.started_at,
            InstanceRow.ended_at,
            InstanceRow.end_reason,
        ]
        if cached is None:  # the state is needed anyway: read it with the rest
            columns += [InstanceRow.state, InstanceRow.state_format]
        # Core on the connection: this runs on every step, the ORM layer adds nothing here.
        connection = session.connection()
        row = connection.execute(
            select(*columns).where(InstanceRow.id == instance_id)
        ).one_or_none()
        if row is None:
            raise NotFound(f"workflow instance {instance_id} does not exist")
        if cached is not None and cached.version == row.version:
            live = cached
        else:
            state = (
                row
                if cached is None
                else connection.execute(
                    select(InstanceRow.state, InstanceRow.state_format).where(
                        InstanceRow.id == instance_id
                    )
                ).one()
            )
            bundle = self.specs.get(session, row.definition_id, row.process_id)
            workflow = self.engine.load(
                state.state, state.state_format, bundle.spec, bundle.subprocess_specs
            )
            live = LiveInstance(
                instance_id,
                row.definition_id,
                row.process_id,
                row.contract_id,
                row.status,
                row.version,
                row.started_by,
                row.started_at,
                workflow,
            )
        live.status, live.ended_at, live.end_reason = row.status, row.ended_at, row.end_reason
        return live

    def read(self, session: Session, instance_id: str) -> LiveInstance:
        """Load for reading only: the live object stays available to the next step."""
        live = self.load(session, instance_id)
        if live.id not in self._pending(session):
            self.cache.put(live)
        return live

    def save(self, session: Session, live: LiveInstance, now: dt.datetime) -> None:
        result = session.connection().execute(
            update(InstanceRow)
            .where(InstanceRow.id == live.id, InstanceRow.version == live.version)
            .values(
                version=live.version + 1,
                status=live.status,
                state_format=STATE_FORMAT,
                state=self.engine.dump(live.workflow),
                updated_at=now,
                ended_at=live.ended_at,
                end_reason=live.end_reason,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            self.cache.take(live.id)
            raise InstanceConflict(
                f"workflow instance {live.id} was changed by someone else "
                f"(version {live.version} is no longer current); reload and retry"
            )
        live.version += 1
        self._pending(session)[live.id] = (self.cache, live)

    @staticmethod
    def _pending(session: Session) -> dict[str, tuple[LiveCache, LiveInstance]]:
        return session.info.setdefault(_PENDING, {})
