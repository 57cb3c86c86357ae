"""Letting a handler run many events in one transaction, and find its rows without a
query per event.

A consumer handling one event per transaction spends most of its time on round trips.
A handler marked `batchable` promises to reach its rows by key — through `find`, after
`prefetch_by_key` loaded the whole batch's rows (and learned which are absent) in one
query — so the batch's effects can be flushed once at commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.events.envelope import CloudEvent

EventHandler = Callable[[Session, CloudEvent, dict[str, Any]], None]
Prefetch = Callable[[Session, list[dict[str, Any]]], None]
Model = TypeVar("Model")


def batchable(prefetch: Prefetch | None = None) -> Callable[[EventHandler], EventHandler]:
    """Mark a handler safe to run with other events in one transaction.

    Safe means it never needs a query to see rows written earlier in the same batch: it
    finds rows by key (`find`) or holds them. Unmarked handlers run one event per transaction.
    """

    def mark(handler: EventHandler) -> EventHandler:
        handler.batchable = True  # type: ignore[attr-defined]
        handler.prefetch = prefetch  # type: ignore[attr-defined]
        return handler

    return mark


def prefetch_by_key(model: type[Any], key: str, data_key: str) -> Prefetch:
    """Load the rows of `model` whose `key` column matches the batch's `data[data_key]`."""
    column = getattr(model, key)

    def prefetch(session: Session, batch: list[dict[str, Any]]) -> None:
        keys = {data[data_key] for data in batch}
        rows = session.scalars(select(model).where(column.in_(keys))).all()
        known: dict[Any, Any] = {k: None for k in keys}
        known.update({getattr(row, key): row for row in rows})
        session.info.setdefault(("prefetched", model), {}).update(known)

    return prefetch


def find(session: Session, model: type[Model], key: Any) -> Model | None:
    """The row with this primary key: from the batch's prefetch when there was one."""
    known = session.info.get(("prefetched", model))
    if known is not None and key in known:
        return known[key]
    return session.get(model, key)


def remember(session: Session, model: type[Any], key: Any, row: Any) -> None:
    """Record a row the handler just created, so a later event of the batch finds it."""
    known = session.info.get(("prefetched", model))
    if known is not None:
        known[key] = row
