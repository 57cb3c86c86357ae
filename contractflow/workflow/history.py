"""The audit log of an instance: every step, who took it, through which channel, with what."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
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
    rows = session.scalars(
        select(HistoryRow)
        .where(HistoryRow.instance_id == instance_id)
        .order_by(HistoryRow.id)
        .limit(limit)
    )
    return [
        HistoryEntry(
            r.instance_id,
            r.at,
            r.kind,
            r.element_id,
            r.task_id,
            r.actor,
            r.channel,
            None if r.data is None else json.loads(r.data),
        )
        for r in rows
    ]
