"""Engine rounds that skip the task-tree walks which would find nothing to do.

SpiffWorkflow asks "which tasks are READY?" by walking the task tree (pure-Python
iterators, a UUID lookup per child) in every round of `do_engine_steps`, once per running
subprocess and once for the whole instance, and "which are WAITING?" after every task it
completes. Most of those walks find nothing to act on (every round ends with one that
finds nothing), and together they were about a tenth of a step's CPU (issue 13 bench).

The flat task maps hold every task a walk can reach, so when a scan of them finds no task
the walk would act on, the walk is skipped: it would have done nothing. When it finds
exactly one, that task runs if the walk would reach it (its ancestors are not predicted
tasks): order cannot matter. Otherwise SpiffWorkflow's own walk runs, in its order.

The two methods are set on each workflow object (`attach`) rather than through a subclass:
the instance stays a BpmnWorkflow, which SpiffWorkflow's own serializers know by its type.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MethodType
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

TaskCallback = Callable[[Any], None] | None


def attach(workflow: BpmnWorkflow) -> BpmnWorkflow:
    """Give a new or restored workflow the rounds below; answers it."""
    workflow._do_engine_steps = MethodType(_do_engine_steps, workflow)
    workflow.update_waiting_tasks = MethodType(_update_waiting_tasks, workflow)
    return workflow


def _do_engine_steps(
    self: BpmnWorkflow,
    will_complete_task: TaskCallback = None,
    did_complete_task: TaskCallback = None,
) -> bool:
    # BpmnWorkflow._do_engine_steps of SpiffWorkflow 3.2, statement for statement, but
    # for the first lines of update_workflow.
    def update_workflow(wf: Any) -> int:
        found = _runnable_tasks(wf, self)
        if len(found) == 1:  # the walk's list holds it alone, if it reaches it at all
            if not _walk_reaches(found[0], wf, self):
                return 0
            if will_complete_task is not None:
                will_complete_task(found[0])
            found[0].run()
            if did_complete_task is not None:
                did_complete_task(found[0])
            return 1
        if not found:
            return 0
        count = 0
        for task in wf.get_tasks(state=TaskState.READY):
            if not task.task_spec.manual:
                if will_complete_task is not None:
                    will_complete_task(task)
                task.run()
                count += 1
                if did_complete_task is not None:
                    did_complete_task(task)
        return count

    active_subprocesses = self.get_active_subprocesses()
    for subprocess in sorted(active_subprocesses, key=lambda v: v.depth, reverse=True):
        count = None
        while count is None or count > 0:
            count = update_workflow(subprocess)
        if subprocess.parent_task_id is not None:
            task = self.get_task_from_id(subprocess.parent_task_id)
            task.task_spec._update(task)

    count = update_workflow(self)
    return count > 0 or len(self.get_active_subprocesses()) > len(active_subprocesses)


def _update_waiting_tasks(self: BpmnWorkflow) -> None:
    # Workflow.update_waiting_tasks walks this workflow's own tree (not its
    # subprocesses'), so its own task map holds every task the walk could update.
    if any(task._state & TaskState.WAITING for task in self.tasks.values()):
        BpmnWorkflow.update_waiting_tasks(self)


def _runnable_tasks(wf: Any, top: BpmnWorkflow) -> list[Any]:
    """READY tasks the engine runs (not manual) that a walk of `wf` could meet, up to two:
    the walk descends into subprocesses, so all of the instance's are scanned."""
    found = []
    for workflow in (wf, *(sp for sp in top.subprocesses.values() if sp is not wf)):
        for task in workflow.tasks.values():
            if task._state & TaskState.READY and not task.task_spec.manual:
                found.append(task)
                if len(found) == 2:
                    return found
    return found


_DEEPEST = 500  # SpiffWorkflow's walk stops descending at depth 1000: far below, to be sure


def _walk_reaches(task: Any, wf: Any, top: BpmnWorkflow) -> bool:
    """Whether SpiffWorkflow's walk of `wf` for READY tasks visits `task`: it descends
    from every task but a predicted one (MAYBE, LIKELY) that is no subprocess's task, and
    from a subprocess's task into the subprocess."""
    depth, node = 0, task
    while True:
        ancestor = node.parent
        while ancestor is not None:
            if ancestor._state < TaskState.FUTURE and ancestor.id not in top.subprocesses:
                return False
            depth += 1
            ancestor = ancestor.parent
        workflow = node.workflow
        if workflow is wf:
            return depth < _DEEPEST
        parent_task_id = getattr(workflow, "parent_task_id", None)
        if parent_task_id is None:  # the instance itself, which is not `wf`
            return False
        node = top.get_task_from_id(parent_task_id)
        if node is None:
            return False
        depth += 1
