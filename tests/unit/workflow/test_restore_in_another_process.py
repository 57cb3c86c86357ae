"""Every construct SpiffWorkflow wires at run time, taken step by step by a new engine on
freshly parsed specs (as another process would), must end as it ends in memory.

Each scenario runs twice: once with one workflow object from start to end, once with the
state dumped after every step and loaded by a fresh engine against a fresh parse. Both
must show the same open tasks after every step and the same end (see
contractflow/workflow/wiring.py for the list of connections and where each is made).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from contractflow.workflow.definitions import inspect
from contractflow.workflow.engine import STATE_FORMAT, WorkflowEngine

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bpmn" / "restore"


def parse(process_id: str) -> tuple[Any, dict[str, Any]]:
    """The specs as the runtime's SpecCache gets them in a new process: a fresh parse."""
    name = f"{process_id}.bpmn"
    found = inspect(name, (FIXTURES / name).read_text(encoding="utf-8"))
    assert not found.problems, found.problems
    return found.specs[process_id]


def open_tasks(workflow: Any) -> list[str]:
    return sorted(
        t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual
    )


def complete(element_id: str, **data: Any) -> tuple[str, Any]:
    return ("complete", (element_id, data))


def message(name: str) -> tuple[str, Any]:
    return ("message", name)


def take(workflow: Any, step: tuple[str, Any]) -> None:
    kind, arg = step
    if kind == "complete":
        element_id, data = arg
        ready = [
            t
            for t in workflow.get_tasks(state=TaskState.READY)
            if t.task_spec.manual and t.task_spec.bpmn_id == element_id
        ]
        assert ready, f"no open task {element_id!r}; open: {open_tasks(workflow)}"
        ready[0].data.update(data)
        ready[0].run()
    else:
        workflow.catch(BpmnEvent(MessageEventDefinition(arg), {}))
    workflow.do_engine_steps()
    workflow.refresh_timers()
    workflow.do_engine_steps()


def run(process_id: str, steps: list[tuple[str, Any]], *, new_process_per_step: bool) -> list:
    engine = WorkflowEngine()
    spec, subprocess_specs = parse(process_id)
    workflow = engine.create(spec, subprocess_specs, {})
    workflow.do_engine_steps()
    seen = [(open_tasks(workflow), workflow.completed)]
    for step in steps:
        if new_process_per_step:
            blob = engine.dump(workflow)
            engine = WorkflowEngine()
            spec, subprocess_specs = parse(process_id)
            workflow = engine.load(blob, STATE_FORMAT, spec, subprocess_specs)
        take(workflow, step)
        seen.append((open_tasks(workflow), workflow.completed))
    return seen


SCENARIOS = {
    "mi_parallel": [
        complete("decide", decision="a"),
        complete("decide", decision="b"),
        complete("decide", decision="c"),
        complete("after"),
    ],
    "mi_sequential": [
        complete("decide", decision="a"),
        complete("decide", decision="b"),
        complete("decide", decision="c"),
        complete("after"),
    ],
    "mi_cardinality_condition": [
        complete("vote", decision="yes"),
        complete("vote", decision="no"),  # the completion condition ends the other
        complete("after"),
    ],
    "standard_loop": [
        complete("revise", decision="again"),
        complete("revise", decision="done"),
        complete("after"),
    ],
    "subprocess_mi": [
        complete("sub_check"),
        complete("sub_check"),
        complete("sub_sign"),
        complete("after"),
    ],
    "call_activity": [complete("c_review"), complete("c_review"), complete("after")],
    "event_subprocess_non_interrupting": [
        message("urgent"),
        complete("handle"),
        complete("handle"),
        complete("work"),
        complete("after"),
    ],
    "event_subprocess_interrupting": [message("urgent"), complete("handle"), complete("handle")],
    "boundary_events": [
        complete("work"),
        message("cancel"),
        complete("nudged"),
        complete("work"),
        complete("after"),
    ],
    "event_gateway": [message("reply"), complete("after"), complete("after")],
}


@pytest.mark.parametrize("process_id", sorted(SCENARIOS))
def test_each_step_in_a_new_process_ends_as_in_memory(process_id: str) -> None:
    steps = SCENARIOS[process_id]
    in_memory = run(process_id, steps, new_process_per_step=False)
    across_processes = run(process_id, steps, new_process_per_step=True)
    assert across_processes == in_memory
    if process_id != "event_subprocess_interrupting":
        assert in_memory[-1] == ([], True), "the scenario must drive the process to its end"


def test_a_triggered_event_subprocess_does_not_change_later_instances() -> None:
    """SpiffWorkflow connects Start to an event sub-process on the shared spec when the
    first instance triggers it; left so, every later instance in that process starts the
    event sub-process at once and never ends. Wired at parse time, it cannot leak."""
    engine = WorkflowEngine()
    spec, subprocess_specs = parse("event_subprocess_non_interrupting")
    first = engine.create(spec, subprocess_specs, {})
    first.do_engine_steps()
    take(first, message("urgent"))

    later = engine.create(spec, subprocess_specs, {})
    later.do_engine_steps()
    assert not [t for t in later.get_tasks() if t.task_spec.name == "on_urgent"]
    take(later, complete("work"))
    take(later, complete("after"))
    assert later.completed


# -- through the runtime: human task rows, the database, each mode of live_cache ------------
RUNTIME_SCENARIOS = {
    "mi_parallel": [("decide", {"decision": "a"})] * 3 + [("after", {})],
    "mi_sequential": [("decide", {"decision": "a"})] * 3 + [("after", {})],
    "mi_cardinality_condition": [
        ("vote", {"decision": "yes"}),
        ("vote", {"decision": "no"}),
        ("after", {}),
    ],
    "standard_loop": [
        ("revise", {"decision": "again"}),
        ("revise", {"decision": "done"}),
        ("after", {}),
    ],
    "subprocess_mi": [("sub_check", {}), ("sub_check", {}), ("sub_sign", {}), ("after", {})],
    "call_activity": [("c_review", {}), ("c_review", {}), ("after", {})],
}


@pytest.mark.parametrize("process_id", sorted(RUNTIME_SCENARIOS))
def test_runtime_completes_loops_and_subprocesses_whatever_process_takes_a_step(
    make_runtime: Any, sessions: Any, process_id: str
) -> None:
    from tests.unit.workflow.helpers import complete as complete_task
    from tests.unit.workflow.helpers import open_tasks as open_runtime_tasks
    from tests.unit.workflow.helpers import start, status

    runtime = make_runtime(f"restore/{process_id}.bpmn")
    instance_id = start(runtime, sessions, process_id)
    for element_id, data in RUNTIME_SCENARIOS[process_id]:
        assert element_id in open_runtime_tasks(runtime, sessions, instance_id)
        complete_task(runtime, sessions, instance_id, element_id, data)
    assert open_runtime_tasks(runtime, sessions, instance_id) == {}
    assert status(sessions, instance_id)[0] == "completed"
