"""The engine one service holds: parser, instance serializer and restricted script engine.

State is stored without the spec: an instance row references its definition version and
the spec comes from the cache, because restoring the spec costs about a third of
SpiffWorkflow's load time even for a tiny process.
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_STATE_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from contractflow.workflow.engine_rounds import attach
from contractflow.workflow.scripts import RestrictedEnvironment
from contractflow.workflow.service_tasks import ServiceTaskRegistry
from contractflow.workflow.timers import CycleTimer, DateTimer, DurationTimer

# 1: SpiffWorkflow's own full serialization (spec included), as a naive store writes it.
# 2: the instance part only, in an envelope naming SpiffWorkflow's state version.
STATE_FORMAT = 2


class WorkflowScriptEngine(PythonScriptEngine):
    """Restricted scripts; service tasks dispatched to the service's registry."""

    def __init__(self, operations: ServiceTaskRegistry) -> None:
        super().__init__(environment=RestrictedEnvironment())
        self.operations = operations

    def call_service(self, task: Any, **kwargs: Any) -> str:
        params = {name: p["value"] for name, p in kwargs["operation_params"].items()}
        try:
            result = self.operations.call(
                kwargs["operation_name"], task.task_spec.bpmn_id, params, task.data
            )
        except Exception as exc:
            raise WorkflowTaskException(
                f"service operation {kwargs['operation_name']!r} failed: {exc}",
                task=task,
                exception=exc,
            ) from exc
        # SpiffWorkflow json-decodes whatever the service returns.
        return json.dumps(result, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Most of an instance's tasks do not change from one save to the next: finished ones (the
# engine does not touch a task again once it and its parent are finished) and predicted
# ones (FUTURE, LIKELY, MAYBE: empty data until they become READY, which changes their
# state). Converting them again at every wait was most of the cost of a save, so their
# converted form is kept on the live workflow and reused while the key of everything it
# was made from (state, when, children, data object; the parent's too, as a predicted
# task's data is written as a delta of its parent's) is unchanged.
_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED
_PREDICTED = TaskState.FUTURE | TaskState.LIKELY | TaskState.MAYBE
_CONVERTED = "_contractflow_converted"  # attribute of the live workflow: task id -> (key, dict)


def _reuse_key(task: Any, parent: Any) -> tuple[Any, ...] | None:
    """What a task's converted form depends on, or None when it must be converted afresh.

    A finished task's data never changes through the task itself, but SpiffWorkflow's
    DeepMerge copies inherited data shallowly, so a nested dict or list can be shared with a
    task still running, whose script may change it in place: the data object's id and size
    would not show that. So when a finished task's form is first kept, its data is made its
    own (`_own_data`), and from then on nothing else holds a reference into it.
    A predicted task's form is its parent's key set (as deletions): keyed by those keys."""
    state, data = task._state, task.data
    if state & _FINISHED:
        if parent is not None and not parent._state & _FINISHED:
            return None
        return (state, task.last_state_change, len(task._children), id(data), len(data))
    if state & _PREDICTED and not data:
        own = (state, task.last_state_change, tuple(task._children), id(data))
        if parent is None:
            return own
        parent_data = parent.data
        return (*own, parent._state, parent.last_state_change, id(parent_data), tuple(parent_data))
    return None


def _own_data(task: Any) -> None:
    """Give a finished task a deep copy of its data, shared with no other task."""
    task.data = _deep_copy(task.data)


# Values a task's data holds that are never changed in place: shared, not copied.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), decimal.Decimal, dt.date, dt.datetime})


def _deep_copy(value: Any) -> Any:
    """copy.deepcopy for task data, which is JSON-shaped (dicts, lists, scalars): built by
    type instead of through deepcopy's dispatch and memo, a third of its CPU on such data,
    where copying every finished task's data was a tenth of a step's CPU. Anything else
    goes to copy.deepcopy. (Two references to one list become two lists, as a save and
    restore makes them anyway.)"""
    kind = type(value)
    if kind is dict:
        return {k: _deep_copy(v) for k, v in value.items()}
    if kind is list:
        return [_deep_copy(v) for v in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)


class InstanceConverter(BpmnWorkflowConverter):
    """BpmnWorkflowConverter without the spec: it is given back on restore."""

    def to_dict(self, workflow: BpmnWorkflow, *, reuse: bool = True) -> dict[str, Any]:
        # WorkflowConverter.to_dict, key for key, with the instance's own tasks converted
        # by _task_entry (a third of the cost of the registry's generic dispatch).
        registry = self.registry
        tasks = workflow.tasks
        memo: dict[int, tuple[Any, ...]] | None = None
        if reuse:
            memo = getattr(workflow, _CONVERTED, None)
            if memo is None:
                memo = {}
                setattr(workflow, _CONVERTED, memo)
        converted = {}
        for uid, task in tasks.items():
            id_str, dct = self._task_entry(task, uid, tasks, memo)
            converted[id_str] = dct
        if memo is not None and len(memo) > len(tasks):  # forget tasks no longer there
            for gone in [k for k, entry in memo.items() if tasks.get(entry[0].id) is not entry[0]]:
                del memo[gone]
        dct = {
            "data": registry.convert(registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": converted,
            "root": str(workflow.task_tree.id),
        }
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
        return dct

    def _task_entry(
        self, task: Any, uid: Any, tasks: dict[Any, Any], memo: dict[int, tuple[Any, ...]] | None
    ) -> tuple[str, dict[str, Any]]:
        """(task id as text, what the registry makes of the Task: TaskConverter.to_dict
        plus its typename). `memo` (the live workflow's, by task object) keeps each task's
        id text, parent and converted form: a task id is a UUID, whose hash and text are
        Python code, and most tasks are unchanged since the last save (see _reuse_key)."""
        if type(task) is not Task or type(task.internal_data) is not dict:
            return str(uid), self.registry.convert(task)
        if memo is None:
            id_str = str(uid)
            return id_str, self._convert_task(task, tasks.get(task._parent), id_str)
        entry = memo.get(id(task))
        if entry is not None and entry[0] is task and entry[1] is task._parent:
            _task, _parent_id, parent, id_str, key, dct, _held = entry
            if key is not None and key == _reuse_key(task, parent):
                return id_str, dct
        else:
            parent, id_str = tasks.get(task._parent), str(uid)
        key = _reuse_key(task, parent)
        if key is not None and task._state & _FINISHED:
            _own_data(task)
            key = _reuse_key(task, parent)
        dct = self._convert_task(task, parent, id_str)
        # The data dicts whose ids are in the key are held by the entry, so their ids cannot
        # be reused by other dicts while the entry lives.
        held = (task.data, parent.data if parent is not None else None)
        memo[id(task)] = (task, task._parent, parent, id_str, key, dct, held)
        return id_str, dct

    def _convert_task(self, task: Any, parent: Any, id_str: str) -> dict[str, Any]:
        clean = self.registry.clean
        if parent is None:
            data, delta = task.data, {}
        else:
            parent_data, own = parent.data, task.data
            data = {}
            delta = {
                "updates": {
                    k: v for k, v in own.items() if k not in parent_data or v != parent_data[k]
                },
                "deletions": [k for k in parent_data if k not in own],
            }
        return {
            "id": id_str,
            "parent": str(task._parent) if parent is not None else None,
            "children": [str(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            # registry.convert of a plain dict is registry.clean; most are empty
            "internal_data": clean(internal) if (internal := task.internal_data) else {},
            "data": data,
            "delta": delta,
            "typename": self._task_typename,
        }

    def _restore_tasks(self, mapping: dict[str, Any], workflow: BpmnWorkflow) -> dict[UUID, Any]:
        """mapping_from_dict(tasks, UUID) with TaskConverter.from_dict done here, statement
        for statement, parsing each id once (a UUID is written several times per task)."""
        registry = self.registry
        restore = registry.restore
        typename = self._task_typename
        spec_get = workflow.spec.task_specs.get
        event_manager = workflow.top_workflow.event_manager
        uuids: dict[str, UUID] = {}

        def uid(text: str) -> UUID:
            value = uuids.get(text)
            if value is None:
                value = uuids[text] = UUID(text)
            return value

        tasks: dict[UUID, Any] = {}
        for key, dct in mapping.items():
            if type(dct) is not dict or dct.get("typename") != typename:
                tasks[uid(key)] = restore(dct, workflow=workflow)
                continue
            task_spec = spec_get(dct["task_spec"])
            task = Task(workflow, task_spec, state=dct["state"], id=uid(dct["id"]))
            task._parent = uid(dct["parent"]) if dct["parent"] is not None else None
            task._children = [uid(child) for child in dct["children"]]
            task.last_state_change = dct["last_state_change"]
            task.triggered = dct["triggered"]
            task.internal_data = restore(dct["internal_data"])
            if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
                event_manager.add_task(task)
            delta = dct.get("delta")
            if delta and (parent := task.parent) is not None:
                data = DeepMerge.merge({}, parent.data)
                data.update(restore(delta.get("updates", {})))
                for name in delta.get("deletions", {}):
                    if name in data:
                        del data[name]
            else:
                data = restore(dct["data"])
            task.data = data
            tasks[uid(key)] = task
        return tasks

    @property
    def _task_typename(self) -> str:
        return self.registry.typenames[Task]

    def restore(self, dct: dict[str, Any], spec: Any, subprocess_specs: dict) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self._restore_tasks(dct["tasks"], workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry() -> tuple[Any, InstanceConverter]:
    config = dict(SPIFF_CONFIG)
    for timer in (DateTimer, DurationTimer, CycleTimer):
        config[timer] = TimerConditionalEventDefinitionConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(
        decimal.Decimal, lambda v: {"value": str(v)}, lambda v: decimal.Decimal(v["value"])
    )
    registry.register(
        dt.date, lambda v: {"value": v.isoformat()}, lambda v: dt.date.fromisoformat(v["value"])
    )
    # Encoder mode: nested values are converted by the JSON encoder's `default` while
    # dumping instead of by a second full walk of the data first (what serialize_json does).
    registry._encoder_mode = True
    # InstanceConverter._task_dict relies on plain dicts having no converter of their own.
    if dict in registry.typenames:
        raise RuntimeError("a converter is registered for dict: the task encoder needs updating")
    # InstanceConverter converts Tasks itself, as TaskConverter does: make sure it is that.
    task_from_dict = registry.convert_from_dict[registry.typenames[Task]]
    task_converter: Any = getattr(task_from_dict.args[0], "__self__", None)
    if type(task_converter) is not TaskConverter or task_converter.target_class is not Task:
        raise RuntimeError(
            "Task is not converted by TaskConverter: the task encoder needs updating"
        )
    return registry, InstanceConverter(BpmnWorkflow, registry)


class UnknownStateFormat(ValueError):
    pass


class WorkflowEngine:
    def __init__(self, operations: ServiceTaskRegistry | None = None) -> None:
        self.operations = operations or ServiceTaskRegistry()
        self.script_engine = WorkflowScriptEngine(self.operations)
        self.registry, self._instances = _registry()
        self._encoder = create_encoder(self.registry)

    def create(self, spec: Any, subprocess_specs: dict, variables: dict[str, Any]) -> BpmnWorkflow:
        workflow = attach(BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine))
        # The root task's data is what every first task inherits.
        workflow.task_tree.data.update(variables)
        return workflow

    def dump(self, workflow: BpmnWorkflow, *, reuse: bool = True) -> bytes:
        """The instance's state; `reuse=False` converts every task afresh (what a save
        reusing finished tasks' converted form must equal, byte for byte)."""
        state = {
            "spiff": SPIFF_STATE_VERSION,
            "workflow": self._instances.to_dict(workflow, reuse=reuse),
        }
        return json.dumps(state, separators=(",", ":"), cls=self._encoder).encode()

    def load(
        self, blob: bytes, state_format: int, spec: Any, subprocess_specs: dict
    ) -> BpmnWorkflow:
        state = json.loads(blob)
        if state_format == 1:
            state = _upgrade_full_serialization(state)
        elif state_format != STATE_FORMAT:
            raise UnknownStateFormat(f"workflow state format {state_format} is not known")
        if state.get("spiff") != SPIFF_STATE_VERSION:
            raise UnknownStateFormat(
                f"state written by SpiffWorkflow serializer {state.get('spiff')!r}; "
                f"this runtime reads {SPIFF_STATE_VERSION!r}: add a migration"
            )
        workflow = self._instances.restore(state["workflow"], spec, subprocess_specs)
        workflow.script_engine = self.script_engine
        return attach(workflow)


def _upgrade_full_serialization(state: dict[str, Any]) -> dict[str, Any]:
    """Format 1 → 2: run SpiffWorkflow's own migrations, then drop the embedded specs."""
    version = state.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
    if version in MIGRATIONS:
        MIGRATIONS[version](state)
    state.pop("spec", None)
    state.pop("subprocess_specs", None)
    return {"spiff": SPIFF_STATE_VERSION, "workflow": state}
