"""Start-up: deploy a service's workflow files and check every name they use is bound.

A service task operation, a form key or a thrown message without a registration would
only fail when an instance reaches it, possibly weeks later; start-up refuses instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contractflow.workflow import problem_codes as codes
from contractflow.workflow.models import DefinitionRow
from contractflow.workflow.parser import properties
from contractflow.workflow.validation import DefinitionInvalid, Problem

if TYPE_CHECKING:
    from contractflow.workflow.runtime import WorkflowRuntime


def load_directory(
    runtime: WorkflowRuntime, session: Session, directory: Path, *shared: Path
) -> list[DefinitionRow]:
    from contractflow.workflow.deployment import workflow_files  # it builds on this module

    pending, unreadable = workflow_files(*shared, directory)
    deployed: list[DefinitionRow] = []
    problems: list[Problem] = []
    # Files may call processes of files later in the list: deploy what can be, retry the rest.
    while pending:
        failed: list[tuple[str, str]] = []
        problems = []
        for file_name, content in pending:
            try:
                deployed.append(_deploy(runtime, session, file_name, content))
            except DefinitionInvalid as exc:
                failed.append((file_name, content))
                problems += exc.problems
        if len(failed) == len(pending):
            break
        pending = failed
    if problems or unreadable:
        raise DefinitionInvalid(unreadable + problems)
    return deployed


def _deploy(
    runtime: WorkflowRuntime, session: Session, file_name: str, content: str
) -> DefinitionRow:
    # Web and worker processes start together and deploy the same files: the one that
    # loses the race on the (file, sequence) key finds the winner's identical version.
    for attempt in range(2):
        try:
            with session.begin_nested():
                return runtime.deploy(session, file_name, content, "startup")
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def check_bindings(runtime: WorkflowRuntime, rows: list[DefinitionRow]) -> None:
    problems: list[Problem] = []
    for row in rows:
        for process_id in row.provides.split():
            if row.file_name.endswith(".dmn"):
                continue
            bundle = runtime.specs.cached(row.id, process_id)
            if bundle is None:
                from sqlalchemy.orm import object_session

                session = object_session(row)
                if session is None:
                    continue
                bundle = runtime.specs.get(session, row.id, process_id)
            for spec in [bundle.spec, *bundle.subprocess_specs.values()]:
                problems += _unbound(runtime, row.file_name, spec)
    if problems:
        raise DefinitionInvalid(problems)


def _unbound(runtime: WorkflowRuntime, file_name: str, spec: Any) -> list[Problem]:
    problems = []
    caught = {
        ts.event_definition.name
        for ts in spec.task_specs.values()
        if isinstance(ts, CatchingEvent) and hasattr(ts.event_definition, "name")
    }
    for ts in spec.task_specs.values():
        element = getattr(ts, "bpmn_id", None) or ts.name
        operation = getattr(ts, "operation_name", None)
        if operation and operation not in runtime.service_tasks:
            problems.append(
                Problem(
                    file_name,
                    element,
                    f"service operation {operation!r} is not registered",
                    codes.OPERATION_UNKNOWN,
                    {"operation": operation},
                )
            )
        form_key = properties(ts).get("formKey")
        if form_key and form_key not in runtime.forms:
            problems.append(
                Problem(
                    file_name,
                    element,
                    f"form {form_key!r} is not registered",
                    codes.FORM_UNKNOWN,
                    {"form": form_key},
                )
            )
        if isinstance(ts, ThrowingEvent):
            definition = ts.event_definition
            is_message = isinstance(definition, MessageEventDefinition)
            is_signal = isinstance(definition, SignalEventDefinition)
            if (
                (is_message or is_signal)
                and definition.name not in caught
                and definition.name not in runtime.publications
            ):
                kind = "message" if is_message else "signal"
                problems.append(
                    Problem(
                        file_name,
                        element,
                        f"{kind} {definition.name!r} is thrown but mapped to no event type",
                        codes.THROW_UNMAPPED,
                        {"kind": kind, "name": definition.name},
                    )
                )
    return problems
