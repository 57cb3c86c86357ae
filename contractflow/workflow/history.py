"""The audit log of an instance: every step, who took it, through which channel, with what."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from contractflow.workflow.models import HistoryRow


@dataclass(frozen=True)
class HistoryEntry:
    instance_id: str
    at: dt.datetime
    kind: str
    element_id: str | None = None
    task_id: str | None = None
    actor: str | None = None
    channel: str | None = None
    data: Any = None

    def row(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "at": self.at,
            "kind": self.kind,
            "element_id": self.element_id,
            "task_id": self.task_id,
            "actor": self.actor,
            "channel": self.channel,
            "data": None if self.data is None else json.dumps(self.data, default=str),
        }


def write(session: Session, entries: list[HistoryEntry]) -> None:
    if entries:
        session.connection().execute(insert(HistoryRow), [e.row() for e in entries])


def of_instance(session: Session, instance_id: str, limit: int = 1000) -> list[HistoryEntry]:
    # Columns, not entities: every contract view reads the whole log, the rows become
    # HistoryEntry anyway, and history rows are only ever inserted (nothing in the
    # identity map to keep in step); an ORM object per row was most of the read's CPU.
    rows = session.execute(_OF_INSTANCE, {"instance_id": instance_id, "limit": limit})
    return [
        HistoryEntry(
            instance,
            at,
            kind,
            element,
            task,
            actor,
            channel,
            None if data is None else json.loads(data),
        )
        for instance, at, kind, element, task, actor, channel, data in rows
    ]


_T = HistoryRow.__table__.c
_OF_INSTANCE = (
    select(_T.instance_id, _T.at, _T.kind, _T.element_id, _T.task_id, _T.actor, _T.channel, _T.data)
    .where(_T.instance_id == bindparam("instance_id"))
    .order_by(_T.id)
    .limit(bindparam("limit"))
)
