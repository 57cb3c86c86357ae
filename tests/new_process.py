"""Run a service's steps as separate processes would: each transaction starts with
nothing parsed and nothing live, so every step restores its instance against specs
parsed afresh (the web process deciding what the worker started, a restarted worker)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from contractflow.workflow import WorkflowRuntime


def act_as_new_process_per_transaction(
    sessions: sessionmaker[Session], runtime: WorkflowRuntime
) -> None:
    """Each transaction of `sessions` begins with an empty spec cache and live cache."""

    def forget(*_: Any) -> None:
        runtime.specs.clear()
        runtime.store.cache.clear()

    event.listen(sessions, "after_begin", forget)
