"""What an instance is waiting for — human tasks, timers, messages — read off the workflow.

The runtime compares this before and after each step and writes only the difference to
the indexed tables, so a step that changes one wait writes one row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.util.task import TaskState

from contractflow.workflow.parser import properties
from contractflow.workflow.timers import CycleTimer, DateTimer, DurationTimer, add_duration

TIMER_TYPES = (DateTimer, DurationTimer, CycleTimer)


@dataclass
class Waits:
    human: dict[str, Any] = field(default_factory=dict)  # task id -> task
    timers: dict[str, tuple[Any, dt.datetime]] = field(default_factory=dict)
    messages: dict[str, tuple[Any, str]] = field(default_factory=dict)  # task, message name


def waits_of(workflow: Any) -> Waits:
    waits = Waits()
    # The flat task maps of the instance and its running subprocesses, not
    # get_tasks(state=READY, manual=True): that walks the whole task tree, which was a
    # tenth of a step's CPU. (Creation order: a parallel split's branches as modelled.)
    for wf in (workflow, *workflow.get_active_subprocesses()):
        for task in wf.tasks.values():
            if task._state == TaskState.READY and task.task_spec.manual:
                waits.human[str(task.id)] = task
    for task in workflow.event_manager.tasks.values():
        if not task.has_state(TaskState.WAITING):
            continue
        for definition in _definitions(task.task_spec.event_definition):
            if isinstance(definition, TIMER_TYPES):
                due = _due(task, definition)
                if due is not None:
                    waits.timers[str(task.id)] = (task, due)
            elif isinstance(definition, MessageEventDefinition):
                waits.messages[str(task.id)] = (task, definition.name)
    return waits


def _definitions(definition: Any) -> list[Any]:
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def _due(task: Any, definition: Any) -> dt.datetime | None:
    value = task.internal_data.get("event_value")
    if value is None or task.internal_data.get("event_fired"):
        return None
    if isinstance(definition, CycleTimer):
        return dt.datetime.fromisoformat(value["next"]) if value["cycles"] != 0 else None
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


def element_id(task: Any) -> str:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def human_task_fields(task: Any, now: dt.datetime) -> dict[str, Any]:
    spec = task.task_spec
    props = properties(spec)
    due_in = props.get("dueIn")
    return {
        "id": str(task.id),
        "element_id": element_id(task),
        "name": getattr(spec, "bpmn_name", None) or element_id(task),
        "form_key": props.get("formKey"),
        "candidate_role": props.get("candidateRole") or getattr(spec, "lane", None),
        "due_at": add_duration(now, due_in) if due_in else None,
    }


def correlation_key(task: Any, default: str) -> str:
    expression = properties(task.task_spec).get("correlationKey")
    if not expression:
        return default
    return str(task.workflow.script_engine.evaluate(task, expression))
