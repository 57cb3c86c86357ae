"""One step of one instance, in the caller's transaction: act, run the engine, persist.

A step runs the engine until only people, timers or messages can move it on, turns any
task failure into an incident, publishes what the workflow threw, hands over held
messages to new subscriptions, writes only the waits that changed, and saves the state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from contractflow.events.outbox import Outbox
from contractflow.workflow import human_tasks, incidents, messages
from contractflow.workflow.batch import (
    CANCEL_HUMAN_TASKS,
    DELETE_SUBSCRIPTIONS,
    DELETE_TIMERS,
    INSERT_HISTORY,
    INSERT_HUMAN_TASKS,
    INSERT_SUBSCRIPTIONS,
    INSERT_TIMERS,
    MOVE_TIMER,
    Burst,
)
from contractflow.workflow.history import HistoryEntry
from contractflow.workflow.instances import InstanceStore, LiveInstance
from contractflow.workflow.script_guards import StepAllowance
from contractflow.workflow.service_tasks import StepContext, running_step
from contractflow.workflow.timers import clock_at
from contractflow.workflow.waits import (
    Waits,
    correlation_key,
    element_id,
    human_task_fields,
    waits_of,
)

ACTIVE, INCIDENT, COMPLETED, CANCELLED = "active", "incident", "completed", "cancelled"


@dataclass
class Step:
    session: Session
    live: LiveInstance
    now: dt.datetime
    actor: str | None = None
    channel: str | None = None
    traceparent: str | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    completed_tasks: set[str] = field(default_factory=set)
    published: list[Any] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # task, element, error

    def record(self, kind: str, task: Any = None, data: Any = None, **kw: Any) -> None:
        self.history.append(
            HistoryEntry(
                self.live.id,
                self.now,
                kind,
                element_id=element_id(task) if task is not None else kw.pop("element_id", None),
                task_id=str(task.id) if task is not None else kw.pop("task_id", None),
                actor=kw.pop("actor", self.actor),
                channel=kw.pop("channel", self.channel),
                data=data,
            )
        )


Action = Callable[[Step], None]


@dataclass
class Stepper:
    store: InstanceStore
    publications: messages.MessagePublications
    outbox: Outbox | None
    source: str

    def run(self, step: Step, action: Action, *, is_new: bool = False) -> None:
        live = step.live
        workflow = live.workflow
        before = Waits() if is_new else (live.waits or waits_of(workflow))
        context = StepContext(
            step.session, live.id, live.process_id, live.contract_id, step.now, step.actor
        )
        with clock_at(step.now), running_step(context):
            action(step)
            if live.status not in (CANCELLED,):
                after, keys = self._settle(step)
            else:
                after, keys = Waits(), {}
        if live.status != CANCELLED:
            self._update_status(step)
        # One burst. Human task rows it cancels come first: a completion locks its task row
        # before the instance row, so every step takes them in that order (the other way
        # round a cancel racing a completion deadlocks). Then the instance row (new wait
        # rows reference it), the waits that changed, history.
        burst = Burst()
        self._cancel_tasks(burst, step, before, after)
        if is_new:
            self.store.queue_insert(step.session, burst, live, step.now)
        else:
            self.store.queue_save(step.session, burst, live, step.now)
        self._sync(burst, step, before, after, keys)
        burst.add(INSERT_HISTORY, [e.row() for e in step.history])
        burst.flush(step.session)
        live.waits = after
        for task_id, element, error in step.failures:
            incidents.raise_incident(step.session, live.id, task_id, element, error, step.now)

    def _settle(self, step: Step) -> tuple[Waits, dict[str, str]]:
        """Run until nothing moves without the outside world; deliver held messages."""
        keys: dict[str, str] = {}
        previous = step.live.waits.messages if step.live.waits else {}
        while True:
            self._run_engine(step)
            self._publish(step)
            after = waits_of(step.live.workflow)
            delivered = False
            for task_id, (task, name) in after.messages.items():
                if task_id not in keys:
                    keys[task_id] = correlation_key(task, step.live.contract_id or step.live.id)
                if task_id in previous:
                    continue
                held = messages.take_held(step.session, name, keys[task_id], step.now)
                if held is not None:
                    deliver(task, name, held.payload)
                    step.record(
                        "message_received",
                        task,
                        {"event_id": held.event_id, "payload": held.payload, "held": True},
                    )
                    delivered = True
            if not delivered:
                return after, keys

    def _run_engine(self, step: Step) -> None:
        # All scripts of one step share one time allowance (each alone has its own bound):
        # a table of many costly cells cannot add up to a frozen request or worker.
        with StepAllowance():
            self._run_engine_steps(step)

    def _run_engine_steps(self, step: Step) -> None:
        workflow = step.live.workflow
        known = set()

        def completed(task: Any) -> None:
            if getattr(task.task_spec, "bpmn_id", None):
                step.record("element_completed", task, actor=None, channel=None)

        for _ in range(100):
            try:
                workflow.do_engine_steps(did_complete_task=completed)
            except Exception as exc:
                failed = [t for t in workflow.get_tasks(state=TaskState.ERROR) if t.id not in known]
                if not failed:
                    raise
                for task in failed:
                    known.add(task.id)
                    step.failures.append((str(task.id), element_id(task), _describe(exc)))
                    step.record("incident_raised", task, {"error": _describe(exc)})
                continue
            if not _has_task(workflow, TaskState.READY, manual=False):
                return
        raise RuntimeError(f"instance {step.live.id} did not settle after 100 engine rounds")

    def _publish(self, step: Step) -> None:
        for event in step.live.workflow.get_events():
            definition = event.event_definition
            kind = "message" if isinstance(definition, MessageEventDefinition) else "signal"
            thrown = messages.ThrownMessage(
                definition.name,
                kind,
                event.payload,
                step.live.id,
                step.live.process_id,
                step.live.contract_id,
            )
            cloud_event = self.publications.event_for(thrown, self.source, step.traceparent)
            if self.outbox is None:
                raise RuntimeError("this runtime has no outbox; it cannot publish thrown messages")
            self.outbox.record(step.session, cloud_event)
            step.published.append(cloud_event)
            step.record(
                f"{kind}_thrown",
                None,
                {
                    "name": definition.name,
                    "event_type": cloud_event.type,
                    "event_id": cloud_event.id,
                },
                actor=None,
                channel=None,
            )

    @staticmethod
    def _cancel_tasks(burst: Burst, step: Step, before: Waits, after: Waits) -> None:
        cancelled = [
            tid
            for tid in before.human
            if tid not in after.human and tid not in step.completed_tasks
        ]
        if cancelled:
            burst.add(CANCEL_HUMAN_TASKS, {"ids": cancelled})

    def _sync(
        self, burst: Burst, step: Step, before: Waits, after: Waits, keys: dict[str, str]
    ) -> None:
        live, now = step.live, step.now
        burst.add(
            INSERT_HUMAN_TASKS,
            [
                {
                    **human_task_fields(task, now),
                    "instance_id": live.id,
                    "process_id": live.process_id,
                    "contract_id": live.contract_id,
                    "status": human_tasks.OPEN,
                    "created_at": now,
                    "assignee": None,
                    "completed_at": None,
                    "completed_by": None,
                }
                for tid, task in after.human.items()
                if tid not in before.human
            ],
        )
        burst.add(
            INSERT_TIMERS,
            [
                {
                    "instance_id": live.id,
                    "task_id": tid,
                    "element_id": element_id(task),
                    "due_at": due,
                }
                for tid, (task, due) in after.timers.items()
                if tid not in before.timers
            ],
        )
        for tid, (_task, due) in after.timers.items():
            if tid in before.timers and before.timers[tid][1] != due:
                burst.add(MOVE_TIMER, {"b_instance_id": live.id, "b_task_id": tid, "due_at": due})
        gone = [tid for tid in before.timers if tid not in after.timers]
        if gone:
            burst.add(DELETE_TIMERS, {"b_instance_id": live.id, "ids": gone})
        burst.add(
            INSERT_SUBSCRIPTIONS,
            [
                {
                    "instance_id": live.id,
                    "task_id": tid,
                    "message_name": name,
                    "correlation_key": keys[tid],
                    "created_at": now,
                }
                for tid, (_task, name) in after.messages.items()
                if tid not in before.messages
            ],
        )
        unsubscribed = [t for t in before.messages if t not in after.messages]
        if unsubscribed:
            burst.add(DELETE_SUBSCRIPTIONS, {"b_instance_id": live.id, "ids": unsubscribed})

    def _update_status(self, step: Step) -> None:
        live, workflow = step.live, step.live.workflow
        # A failed task counts as finished to SpiffWorkflow: a failure with nothing after it
        # yet (a cycle timer adds its children only when it fires) is no completed instance.
        if workflow.is_completed() and not _has_task(workflow, TaskState.ERROR):
            if live.status != COMPLETED:
                live.status, live.ended_at = COMPLETED, step.now
                step.record("completed", None, None, actor=None, channel=None)
        elif _has_task(workflow, TaskState.ERROR):
            live.status = INCIDENT
        else:
            live.status = ACTIVE


def deliver(task: Any, name: str, payload: Any) -> None:
    """Hand a message to the catch event task that waits for it."""
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        definition = next(
            d
            for d in definition.event_definitions
            if isinstance(d, MessageEventDefinition) and d.name == name
        )
    if getattr(definition, "message_var", None) is None and isinstance(payload, dict):
        # Without a messageVariable the payload's fields become process variables.
        task.data.update(payload)
    task.task_spec.catch(task, BpmnEvent(definition, payload))
    task.task_spec._update(task)


def _has_task(workflow: Any, state: int, manual: bool | None = None) -> bool:
    """Whether any task of the instance (or of a subprocess still running) is in `state`:
    what `get_next_task(state=...) is not None` answers, from the flat task maps instead
    of a walk of the task tree (which is most of its cost)."""
    for wf in (workflow, *workflow.get_active_subprocesses()):
        for task in wf.tasks.values():
            if task._state & state and (manual is None or task.task_spec.manual == manual):
                return True
    return False


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__ or getattr(exc, "exception", None)
    if cause is not None and str(cause) not in text:
        text = f"{text}: {type(cause).__name__}: {cause}"
    return text[:4000]
