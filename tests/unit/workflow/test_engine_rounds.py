"""The engine's rounds skip only task-tree walks that would do nothing: a workflow with them
runs the same tasks in the same order, to the same states, as SpiffWorkflow's own rounds.

Driven through negotiation's real pre-signing process (a subprocess of parallel reviews,
an error boundary event that sends the draft back, message throw and catch, loops), with
its service tasks answered by stubs, one send-back round and then approval."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from contractflow.workflow.engine import WorkflowEngine
from contractflow.workflow.engine_rounds import _walk_reaches, attach
from contractflow.workflow.parser import WorkflowParser
from contractflow.workflow.service_tasks import ServiceTaskRegistry, StepContext, running_step
from contractflow.workflow.steps import deliver

ROOT = Path(__file__).resolve().parents[3]
PROCESS = ROOT / "workflows" / "negotiation" / "pre_signing.bpmn"
JOIN = ROOT / "tests" / "fixtures" / "bpmn" / "confirm_then_notify.bpmn"  # a top-level join
ANSWERS: dict[str, Any] = {
    "negotiation.check_qualification": {"ok": True},
    "negotiation.check_budget": {"status": "within_budget"},
    "negotiation.check_draft": {"ok": True},
    "negotiation.collect_reviews": {"passed": True},
    "negotiation.request_approval": {"request_id": "R-1"},
    "negotiation.record_decision": {"approved": True},
}


def engine() -> WorkflowEngine:
    operations = ServiceTaskRegistry()
    for name in (
        "record_requirement",
        "check_qualification",
        "check_budget",
        "check_draft",
        "record_review",
        "return_to_drafting",
        "collect_reviews",
        "request_approval",
        "record_decision",
        "record_signing",
    ):
        operation = f"negotiation.{name}"
        operations.register(operation, lambda call, o=operation: ANSWERS.get(o))
    operations.register("step.notify", lambda call: None)
    return WorkflowEngine(operations)


class Run:
    """One workflow and what its engine rounds did, in order."""

    def __init__(self, workflow: BpmnWorkflow) -> None:
        self.workflow = workflow
        self.completed: list[str] = []

    def settle(self) -> None:
        self.workflow.do_engine_steps(
            did_complete_task=lambda task: self.completed.append(task.task_spec.name)
        )

    def complete(self, spec_name: str, data: dict[str, Any]) -> None:
        [task] = self.workflow.get_tasks(state=TaskState.READY, spec_name=spec_name)
        task.data.update(data)
        task.run()
        self.completed.append(f"by hand: {spec_name}")
        self.settle()

    def receive(self, message: str, payload: dict[str, Any]) -> None:
        [task] = self.workflow.get_tasks(state=TaskState.WAITING, spec_name="await_approval")
        deliver(task, message, payload)
        self.settle()

    def states(self) -> list[tuple[str, str]]:
        every = [self.workflow, *self.workflow.subprocesses.values()]
        return [
            (task.task_spec.name, TaskState.get_name(task.state))
            for wf in every
            for task in wf.get_tasks()
        ]


def drive(run: Run) -> Run:
    reviews = ("legal_review", "technical_review", "finance_review")
    run.settle()
    run.complete("define_requirement", {"need": "OA", "budget": {"amount": "1", "currency": "CNY"}})
    run.complete("research_provider", {"chosen_provider": "P"})
    run.complete("draft_contract", {})
    run.complete("legal_review", {"decision": "accept"})
    run.complete("technical_review", {"decision": "send_back", "comments": "SLA"})
    run.complete("draft_contract", {})
    for review in reviews:
        run.complete(review, {"decision": "accept"})
    run.receive("approval_decided", {"approved": True, "request_id": "R-1"})
    run.complete("sign_contract", {})
    return run


def test_the_rounds_run_what_spiffworkflows_own_run_in_the_same_order():
    parser = WorkflowParser()
    parser.add_bpmn_file(str(PROCESS))
    spec, subprocess_specs = (
        parser.get_spec("pre_signing"),
        parser.get_subprocess_specs("pre_signing"),
    )
    ours, theirs = engine(), engine()
    context = StepContext(None, "i-1", "pre_signing", "C-1", dt.datetime.now(dt.UTC), "tester")  # type: ignore[arg-type]
    with running_step(context):
        with_ours = drive(Run(ours.create(spec, subprocess_specs, {"contract_id": "C-1"})))
        plain = BpmnWorkflow(spec, subprocess_specs, script_engine=theirs.script_engine)
        plain.task_tree.data.update({"contract_id": "C-1"})
        with_theirs = drive(Run(plain))
    assert with_ours.workflow._do_engine_steps.__func__ is not BpmnWorkflow._do_engine_steps
    assert with_ours.completed == with_theirs.completed
    assert "reviews" in with_ours.completed and "sign_contract" in " ".join(with_ours.completed)
    assert with_ours.states() == with_theirs.states()
    assert with_ours.workflow.is_completed() and with_theirs.workflow.is_completed()


def test_a_restored_workflow_runs_with_the_rounds_too():
    parser = WorkflowParser()
    parser.add_bpmn_file(str(PROCESS))
    spec, subprocess_specs = (
        parser.get_spec("pre_signing"),
        parser.get_subprocess_specs("pre_signing"),
    )
    ours = engine()
    workflow = ours.create(spec, subprocess_specs, {})
    restored = ours.load(ours.dump(workflow), 2, spec, subprocess_specs)
    assert restored._do_engine_steps.__func__ is attach(workflow)._do_engine_steps.__func__


def test_a_join_in_the_instance_itself_waits_and_goes_on_as_spiffworkflow_has_it():
    parser = WorkflowParser()
    parser.add_bpmn_file(str(JOIN))
    spec = parser.get_spec("confirm_then_notify")
    context = StepContext(None, "i-1", "confirm_then_notify", "C-1", dt.datetime.now(dt.UTC), "t")  # type: ignore[arg-type]
    runs = []
    with running_step(context):
        for workflow in (
            engine().create(spec, {}, {}),
            BpmnWorkflow(spec, {}, script_engine=engine().script_engine),
        ):
            run = Run(workflow)
            run.settle()
            run.complete("countersign", {})
            waiting = run.states()
            run.complete("confirm", {"approved": True})
            runs.append((run.completed, waiting, run.states(), workflow.is_completed()))
    assert runs[0] == runs[1]
    assert ("join", "WAITING") in runs[0][1] and runs[0][3]


class CheckedRun(Run):
    """After every round: the reach test agrees with SpiffWorkflow's walk, for every READY
    task (people's included) and every workflow of the instance a walk could start from."""

    checked = 0

    def settle(self) -> None:
        super().settle()
        top = self.workflow
        every = [top, *top.subprocesses.values()]
        for wf in every:
            walked = set(wf.get_tasks(state=TaskState.READY))
            for task in (t for w in every for t in w.tasks.values() if t.state == TaskState.READY):
                assert _walk_reaches(task, wf, top) == (task in walked), (task, wf)
                CheckedRun.checked += 1


def test_the_reach_test_agrees_with_the_walk_on_every_ready_task():
    parser = WorkflowParser()
    parser.add_bpmn_file(str(PROCESS))
    spec = parser.get_spec("pre_signing")
    subprocess_specs = parser.get_subprocess_specs("pre_signing")
    context = StepContext(None, "i-1", "pre_signing", "C-1", dt.datetime.now(dt.UTC), "t")  # type: ignore[arg-type]
    with running_step(context):
        drive(CheckedRun(engine().create(spec, subprocess_specs, {"contract_id": "C-1"})))
    assert CheckedRun.checked > 10
