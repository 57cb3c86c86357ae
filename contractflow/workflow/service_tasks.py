"""Named Python operations that BPMN service tasks call, one registry per service.

A service task names its operation (`spiffworkflow:serviceTaskOperator id="compute_fees"`)
and its parameters are restricted expressions over the task data; the operation gets the
evaluated parameters plus the step's context, including the session, so it can write its
own rows in the same transaction as the workflow step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class StepContext:
    """What the step being run is about; set by the runtime around every engine step."""

    session: Session
    instance_id: str
    process_id: str
    contract_id: str | None
    now: dt.datetime
    # Who caused this step (the user completing a task), None for timers and messages.
    actor: str | None = None


@dataclass(frozen=True)
class ServiceCall:
    operation: str
    element_id: str
    params: dict[str, Any]
    variables: dict[str, Any]
    step: StepContext


ServiceOperation = Callable[[ServiceCall], Any]

_STEP: ContextVar[StepContext | None] = ContextVar("workflow_step", default=None)


@contextmanager
def running_step(step: StepContext) -> Iterator[StepContext]:
    token = _STEP.set(step)
    try:
        yield step
    finally:
        _STEP.reset(token)


def current_step() -> StepContext:
    step = _STEP.get()
    if step is None:
        raise RuntimeError("service tasks run only inside a workflow step of the runtime")
    return step


class UnknownOperation(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no service operation named {name!r} is registered")
        self.name = name


class ServiceTaskRegistry:
    def __init__(self) -> None:
        self._operations: dict[str, ServiceOperation] = {}

    def register(self, name: str, operation: ServiceOperation) -> None:
        if name in self._operations:
            raise ValueError(f"service operation {name!r} is registered twice")
        self._operations[name] = operation

    def operation(self, name: str) -> Callable[[ServiceOperation], ServiceOperation]:
        """Decorator form of `register`."""

        def decorate(fn: ServiceOperation) -> ServiceOperation:
            self.register(name, fn)
            return fn

        return decorate

    def __contains__(self, name: object) -> bool:
        return name in self._operations

    def names(self) -> set[str]:
        return set(self._operations)

    def call(self, name: str, element_id: str, params: dict[str, Any], data: dict) -> Any:
        operation = self._operations.get(name)
        if operation is None:
            raise UnknownOperation(name)
        call = ServiceCall(name, element_id, params, dict(data), current_step())
        return operation(call)
