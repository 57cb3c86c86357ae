"""The instance state's conversion: SpiffWorkflow's BpmnWorkflowConverter without the
spec (given back on restore), with the instance's and its subprocesses' tasks converted
and restored here, and unchanged tasks' converted form kept between saves."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

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
        dct = self._workflow_dict(workflow, reuse)
        # A running subprocess (the parallel reviews) is converted as the registry's
        # BpmnSubWorkflowConverter does, key for key, but with its tasks through
        # _task_entry too: through the registry its unchanged tasks were converted afresh
        # at every save, two fifths of a save's conversion during the reviews.
        subprocesses = {}
        for uid, sub in workflow.subprocesses.items():
            typename = registry.typenames.get(type(sub))
            if typename != self._subworkflow_typename:
                subprocesses[str(uid)] = registry.convert(sub)
                continue
            sub_dct = self._workflow_dict(sub, reuse)
            sub_dct["parent_task_id"] = str(sub.parent_task_id)
            sub_dct["spec"] = sub.spec.name
            sub_dct["typename"] = typename
            subprocesses[str(uid)] = sub_dct
        dct["subprocesses"] = subprocesses
        dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
        return dct

    def _workflow_dict(self, workflow: Any, reuse: bool) -> dict[str, Any]:
        """WorkflowConverter.to_dict, key for key, with the tasks converted by _task_entry
        (a third of the cost of the registry's generic dispatch); `workflow` is the
        instance or one of its subprocesses, each keeping its own converted tasks."""
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
        return {
            "data": registry.convert(registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": converted,
            "root": str(workflow.task_tree.id),
        }

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

    @property
    def _subworkflow_typename(self) -> str:
        return self.registry.typenames[BpmnSubWorkflow]

    def subprocesses_from_dict(
        self, dct: dict[str, Any], workflow: Any, top_workflow: Any = None
    ) -> None:
        """BpmnWorkflowConverter.subprocesses_from_dict, with each subprocess restored as
        BpmnSubWorkflowConverter.from_dict does, statement for statement, but its tasks
        through _restore_tasks (as the instance's own)."""
        top_workflow = top_workflow or workflow
        typename = self._subworkflow_typename
        for task in list(workflow.tasks.values()):
            if not isinstance(task.task_spec, SubWorkflowTask) or str(task.id) not in dct:
                continue
            sub_dct = dct.pop(str(task.id))
            if type(sub_dct) is not dict or sub_dct.get("typename") != typename:
                sp = self.registry.restore(sub_dct, task=task, top_workflow=top_workflow)
            else:
                sub_spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
                sp = BpmnSubWorkflow(sub_spec, task.id, top_workflow, deserializing=True)
                sp.tasks = self._restore_tasks(sub_dct["tasks"], sp)
                sp.task_tree = sp.tasks.get(UUID(sub_dct["root"]))
                self.set_default_attributes(sp, sub_dct)
            top_workflow.subprocesses[task.id] = sp
            sp.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
            self.subprocesses_from_dict(dct, sp, top_workflow)

    def restore(self, dct: dict[str, Any], spec: Any, subprocess_specs: dict) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self._restore_tasks(dct["tasks"], workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow
