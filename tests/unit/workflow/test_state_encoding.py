"""The instance state encoder's fast task conversion equals SpiffWorkflow's own, both ways."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.util.task import TaskState

from contractflow.workflow.engine import STATE_FORMAT, WorkflowEngine
from contractflow.workflow.parser import WorkflowParser

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bpmn"

NESTED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="d" targetNamespace="http://contractflow.example/bpmn">
  <bpmn:process id="nested" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="seed"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>items = [1, {"a": [2, 3]}]
meta = {"k": {"deep": "v"}}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:subProcess id="sub"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:startEvent id="s_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:userTask id="inner"><bpmn:incoming>s1</bpmn:incoming><bpmn:outgoing>s2</bpmn:outgoing>
      </bpmn:userTask>
      <bpmn:scriptTask id="touch"><bpmn:incoming>s2</bpmn:incoming><bpmn:outgoing>s3</bpmn:outgoing>
        <bpmn:script>items.append(4)
meta["k"]["deep"] = "w"
del meta["k"]</bpmn:script>
      </bpmn:scriptTask>
      <bpmn:endEvent id="s_end"><bpmn:incoming>s3</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="s1" sourceRef="s_start" targetRef="inner" />
      <bpmn:sequenceFlow id="s2" sourceRef="inner" targetRef="touch" />
      <bpmn:sequenceFlow id="s3" sourceRef="touch" targetRef="s_end" />
    </bpmn:subProcess>
    <bpmn:userTask id="last"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="seed" />
    <bpmn:sequenceFlow id="f2" sourceRef="seed" targetRef="sub" />
    <bpmn:sequenceFlow id="f3" sourceRef="sub" targetRef="last" />
    <bpmn:sequenceFlow id="f4" sourceRef="last" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def _reference(engine: WorkflowEngine, workflow: Any) -> dict[str, Any]:
    """SpiffWorkflow's generic conversion, as InstanceConverter did it before."""
    converter = engine._instances
    dct = WorkflowConverter.to_dict(converter, workflow)
    dct["subprocesses"] = converter.mapping_to_dict(workflow.subprocesses)
    dct["bpmn_events"] = converter.registry.convert(workflow.bpmn_events)
    return dct


def _generic_restore(engine: WorkflowEngine, blob: bytes, spec: Any, subprocess_specs: Any) -> Any:
    """The instance restored by SpiffWorkflow's own TaskConverter, as before."""
    state = json.loads(blob)["workflow"]
    converter = engine._instances
    workflow = converter.target_class(spec, subprocess_specs, deserializing=True)
    workflow.tasks = converter.mapping_from_dict(state["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(state["root"]))
    converter.set_default_attributes(workflow, state)
    converter.subprocesses_from_dict(state["subprocesses"], workflow)
    workflow.bpmn_events = converter.registry.restore(state.pop("bpmn_events", []))
    workflow.script_engine = engine.script_engine
    return workflow


def _snapshot(workflow: Any) -> dict[str, Any]:
    tasks = {}
    for wf in (workflow, *workflow.subprocesses.values()):
        for task_id, task in wf.tasks.items():
            assert task.id == task_id and task.workflow is wf
            tasks[str(task_id)] = (
                type(task),
                task.task_spec.name,
                task.state,
                task._parent,
                tuple(task._children),
                task.last_state_change,
                task.triggered,
                task.internal_data,
                task.data,
            )
    return {
        "tasks": tasks,
        "root": workflow.task_tree.id,
        "waiting": sorted(str(t) for t in workflow.event_manager.tasks),
        "data": workflow.data,
        "last_task": workflow.last_task.id if workflow.last_task else None,
    }


def _encoded(engine: WorkflowEngine, dct: dict[str, Any]) -> bytes:
    state = {"spiff": VERSION, "workflow": dct}
    return json.dumps(state, separators=(",", ":"), cls=engine._encoder).encode()


@pytest.mark.parametrize(
    ("source", "process_id", "variables", "expected_waits"),
    [
        ("pre_signing.bpmn", "pre_signing", {"users": 5, "onsite": True}, 8),
        ("trivial.bpmn", "trivial", {}, 1),
        (None, "nested", {"given": {"x": [1, 2]}}, 2),
    ],
)
def test_fast_task_conversion_equals_spiffworkflows_at_every_wait(
    tmp_path: Path,
    source: str | None,
    process_id: str,
    variables: dict[str, Any],
    expected_waits: int,
) -> None:
    path = FIXTURES / source if source else tmp_path / "nested.bpmn"
    if source is None:
        path.write_text(NESTED, encoding="utf-8")
    parser = WorkflowParser()
    parser.add_bpmn_file(str(path))
    spec, subprocess_specs = parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    engine = WorkflowEngine()
    workflow = engine.create(spec, subprocess_specs, {**variables, "contract_id": "C-1"})
    workflow.do_engine_steps()
    waits = 0
    while True:
        fast = engine._instances.to_dict(workflow)
        assert fast == _reference(engine, workflow)
        blob = engine.dump(workflow)
        assert blob == _encoded(engine, _reference(engine, workflow))
        restored = engine.load(blob, STATE_FORMAT, spec, subprocess_specs)
        assert engine.dump(restored) == blob
        generic = _generic_restore(engine, blob, spec, subprocess_specs)
        assert _snapshot(restored) == _snapshot(generic)
        if workflow.is_completed():
            break
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if ready:
            ready[0].data.update(approved=True, note={"n": waits})
            ready[0].run()
        else:
            task = next(iter(workflow.event_manager.tasks.values()))
            workflow.send_event(BpmnEvent(task.task_spec.event_definition, {"ok": True}))
        workflow.get_events()
        workflow.do_engine_steps()
        waits += 1
    assert waits == expected_waits


@pytest.mark.parametrize(
    ("source", "process_id"), [("pre_signing.bpmn", "pre_signing"), (None, "nested")]
)
def test_flat_task_checks_answer_as_the_tree_walk_does(
    tmp_path: Path, source: str | None, process_id: str
) -> None:
    from contractflow.workflow.steps import _has_task

    path = FIXTURES / source if source else tmp_path / "nested.bpmn"
    if source is None:
        path.write_text(NESTED, encoding="utf-8")
    parser = WorkflowParser()
    parser.add_bpmn_file(str(path))
    engine = WorkflowEngine()
    workflow = engine.create(
        parser.get_spec(process_id),
        parser.get_subprocess_specs(process_id),
        {"users": 1, "onsite": True, "contract_id": "C-1"},
    )
    checks = [
        (TaskState.READY, False),
        (TaskState.READY, True),
        (TaskState.READY, None),
        (TaskState.ERROR, None),
        (TaskState.WAITING, None),
        (TaskState.FUTURE, None),
    ]

    def agree() -> None:
        for state, manual in checks:
            walked = workflow.get_next_task(state=state, manual=manual) is not None
            assert _has_task(workflow, state, manual) == walked, (state, manual)

    agree()
    workflow.do_engine_steps()
    while not workflow.is_completed():
        agree()
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if ready:
            ready[0].run()
        else:
            task = next(iter(workflow.event_manager.tasks.values()))
            workflow.send_event(BpmnEvent(task.task_spec.event_definition, {"ok": True}))
        agree()
        workflow.get_events()
        workflow.do_engine_steps()
    agree()


def test_a_finished_tasks_kept_form_follows_nested_data_a_later_script_changes_in_place() -> None:
    """SpiffWorkflow copies inherited data shallowly: `terms["fees"]` of confirm_terms is the
    same dict in every later task, so raise_fee's in-place change reaches the finished task's
    data without changing its size, and its terms no longer equal its parent's (equal when
    its form was kept, so left out of its delta). The save must still equal a fresh one."""
    from pathlib import Path

    from SpiffWorkflow.util.task import TaskState

    from contractflow.workflow.definitions import inspect
    from contractflow.workflow.engine import WorkflowEngine

    name = "shared_nested_data.bpmn"
    path = Path(__file__).resolve().parents[2] / "fixtures" / "bpmn" / name
    found = inspect(name, path.read_text(encoding="utf-8"))
    spec, subprocess_specs = found.specs["shared_nested_data"]
    engine = WorkflowEngine()
    workflow = engine.create(spec, subprocess_specs, {})
    workflow.do_engine_steps()
    engine.dump(workflow)  # keeps the finished confirm_terms task's converted form
    [review] = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
    review.run()
    workflow.do_engine_steps()  # raise_fee changes terms["fees"] in place
    assert engine.dump(workflow) == engine.dump(workflow, reuse=False)
