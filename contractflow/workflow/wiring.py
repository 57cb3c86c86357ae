"""What SpiffWorkflow wires at run time, made again where another process ran the step.

SpiffWorkflow keeps part of a running instance's behaviour outside the instance: some
steps connect callbacks and task-spec edges on the *spec* objects the moment they first
need them. SpiffWorkflow's own serializer stores the spec with every instance and makes
those connections again when it restores a spec (``BpmnProcessSpecConverter.from_dict``).
This runtime stores specs apart and restores an instance against the specs its own
process parsed, on which a step taken in another process never made them: a parallel
multi-instance approval decided in the web process never completed because the worker
had made the connection, not the web process (issue #9).

Every connection SpiffWorkflow 3.x makes after parsing, and where it is made again here
(``tests/unit/workflow/test_restore_in_another_process.py`` runs each construct with every
step taken by a fresh engine on freshly parsed specs):

- ``LoopTask.create_child`` (multi-instance, parallel and sequential, and standard loops,
  in processes, sub-processes and called processes): the child spec's ``completed_event``
  → the loop task's ``merge_child``. Made once per spec by :func:`wire_specs`, right after
  parsing, exactly as SpiffWorkflow's spec converter does on restore.
- ``BpmnStartTask.trigger_wf`` (an event sub-process started by a message, signal, error
  or escalation; a collaboration's message-started participant): the edges ``Start`` →
  event sub-process → ``EndJoin``, made when the first instance triggers it. That is
  worse than a lost edge: on the shared spec, ``Start`` now has the event sub-process as
  an output, so every later instance in that process starts it eagerly and never ends
  (the test shows it). :func:`wire_specs` gives the event sub-process its input and its
  output at parse time without making it an output of ``Start``: ``trigger_wf`` then
  finds the edge made and adds nothing, and no instance depends on what another did.
- ``AdHocSubprocessSpec.add_path``: ``Start`` → a conditional path restarted at run time,
  the same leak; the same remedy in :func:`wire_specs`.
- ``SubWorkflowTask.start_workflow`` (sub-processes, call activities, event
  sub-processes): the sub-workflow's ``completed_event`` → ``_on_subworkflow_completed``.
  Per instance, not per spec: SpiffWorkflow's ``subprocesses_from_dict``, which
  ``InstanceConverter.restore`` calls, makes it again.
- ``AdHocSubprocessSpec.create_paths`` and every other ``connect`` in the parser: made
  while parsing, so a fresh parse has them. Boundary events, event-based gateways and
  timers keep their state in the task tree (``internal_data``, task states), which is
  saved; they need nothing here.

So a spec is complete once :func:`wire_specs` has run, and never changes after: a step
taken in any process finds what it would have found in the process that took the last.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import AdHocSubprocessSpec
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask


def wire_specs(specs: Iterable[Any]) -> None:
    """Make, right after parsing, every connection SpiffWorkflow would make at run time."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, LoopTask):
                child_spec = spec.task_specs[task_spec.task_spec]
                if not child_spec.completed_event.is_connected(task_spec.merge_child):
                    child_spec.completed_event.connect(task_spec.merge_child)
        start = spec.start
        for name in getattr(start, "trigger_specs", ()):
            _give_input(spec.task_specs[name], start)
            if spec.end not in spec.task_specs[name].outputs:
                spec.task_specs[name].connect(spec.end)
        if isinstance(spec, AdHocSubprocessSpec):
            for path in spec.conditional_paths:
                _give_input(path, start)


def _give_input(task_spec: Any, start: Any) -> None:
    """`start` as an input of `task_spec` but not `task_spec` as an output of `start`: the
    task is created by a trigger, never by `start` completing."""
    if start not in task_spec.inputs:
        task_spec._connect_notify(start)  # the input half of start.connect(task_spec)
