"""The façade a service holds: deploy definitions, start and advance instances.

Every method takes the caller's session and runs in its transaction, so a handler can
combine domain rows, workflow state and outbox events in one commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from contractflow.db import utcnow
from contractflow.events.outbox import Outbox
from contractflow.workflow import definitions, human_tasks, messages, start_timers
from contractflow.workflow.batch import SUBSCRIBER_WITH_INSTANCE_VERSION, read_one
from contractflow.workflow.bindings import check_bindings, load_directory
from contractflow.workflow.engine import WorkflowEngine
from contractflow.workflow.errors import (
    InstanceNotActive,
    NotFound,
    TaskNotOpen,
    WorkflowError,
)
from contractflow.workflow.instances import InstanceStore, LiveInstance
from contractflow.workflow.models import DefinitionRow, StartTimerRow, TimerRow
from contractflow.workflow.queries import RuntimeQueries
from contractflow.workflow.service_tasks import ServiceTaskRegistry
from contractflow.workflow.steps import ACTIVE, CANCELLED, INCIDENT, Step, Stepper, deliver
from contractflow.workflow.task_actions import HumanTaskActions
from contractflow.workflow.timers import clock_at


class WorkflowRuntime(HumanTaskActions, RuntimeQueries):
    def __init__(
        self,
        service: str,
        *,
        outbox: Outbox | None = None,
        source: str | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        message_ttl: dt.timedelta = dt.timedelta(days=7),
        instance_cache_size: int = 2000,
    ) -> None:
        self.service = service
        self.clock = clock
        self.message_ttl = message_ttl
        self.service_tasks = ServiceTaskRegistry()
        self.forms = human_tasks.FormRegistry()
        self.publications = messages.MessagePublications()
        self.engine = WorkflowEngine(self.service_tasks)
        self.specs = definitions.SpecCache()
        self.store = InstanceStore(self.engine, self.specs, instance_cache_size)
        self.stepper = Stepper(self.store, self.publications, outbox, source or f"/{service}")

    # -- registration -------------------------------------------------------------------
    def publish_message(
        self,
        name: str,
        event_type: str,
        build: messages.EventDataBuilder = messages.payload_as_data,
    ) -> None:
        """Publish message/signal `name`, when a workflow throws it, as `event_type`."""
        self.publications.register(name, event_type, build)

    # -- definitions --------------------------------------------------------------------
    def load_definitions(
        self, session: Session, directory: Path, *shared: Path
    ) -> list[DefinitionRow]:
        """Start-up: validate every file, deploy changed ones, check every name is bound."""
        rows = load_directory(self, session, directory, *shared)
        check_bindings(self, [r for r in rows])
        return rows

    def deploy(
        self, session: Session, file_name: str, content: str, deployed_by: str
    ) -> DefinitionRow:
        return definitions.deploy(
            session, self.service, file_name, content, deployed_by, self.clock()
        )

    # -- instances ----------------------------------------------------------------------
    def start(
        self,
        session: Session,
        process_id: str,
        *,
        contract_id: str | None = None,
        variables: dict[str, Any] | None = None,
        started_by: str = "system",
        channel: str = "api",
        traceparent: str | None = None,
        definition_id: int | None = None,
        from_start_timer: StartTimerRow | None = None,
        now: dt.datetime | None = None,
        instance_id: str | None = None,
    ) -> LiveInstance:
        """Start an instance of the latest version (or of `definition_id`). With
        `from_start_timer` (the scheduler's), it starts at that timer start event, fired.
        `instance_id` (a new UUID's text if not given) lets a caller write the id on its
        own row before the instance exists, instead of updating that row after."""
        definition_id = definition_id or definitions.latest_definition_id(
            session, self.service, process_id
        )
        if definition_id is None:
            raise NotFound(f"no deployed definition provides process {process_id!r}")
        bundle = self.specs.get(session, definition_id, process_id)
        now = now or self.clock()
        initial = {**(variables or {}), "contract_id": contract_id}
        workflow = self.engine.create(bundle.spec, bundle.subprocess_specs, initial)
        if from_start_timer is not None:
            start_timers.start_here(
                workflow,
                from_start_timer.element_id,
                from_start_timer.due_at,
                from_start_timer.period_s,
            )
        else:
            start_timers.start_by_hand(workflow)
        live = LiveInstance(
            instance_id or str(uuid.uuid4()),
            definition_id,
            process_id,
            contract_id,
            ACTIVE,
            1,
            started_by,
            now,
            workflow,
        )
        step = Step(session, live, now, started_by, channel, traceparent)
        started: dict[str, Any] = {"definition_id": definition_id, "variables": variables or {}}
        if from_start_timer is not None:
            started["start_timer"] = {
                "element_id": from_start_timer.element_id,
                "timer": from_start_timer.timer,
                "due_at": from_start_timer.due_at.isoformat(),
            }
        step.record("started", None, started)
        self.stepper.run(step, lambda s: None, is_new=True)
        return live

    def cancel(
        self, session: Session, instance_id: str, reason: str, *, actor: str
    ) -> LiveInstance:
        live = self._load_active(session, instance_id)

        def cancel(step: Step) -> None:
            live.workflow.cancel()
            live.status, live.ended_at, live.end_reason = CANCELLED, step.now, reason
            step.record("cancelled", None, {"reason": reason})

        self.stepper.run(Step(session, live, self.clock(), actor, "api"), cancel)
        return live

    # -- messages and timers ------------------------------------------------------------
    def correlate(
        self,
        session: Session,
        message_name: str,
        correlation_key: str,
        payload: Any,
        event_id: str,
        *,
        traceparent: str | None = None,
        now: dt.datetime | None = None,
    ) -> str:
        """Deliver a message to the instance waiting for it, or hold it. Returns
        "delivered" or "held"; a duplicate of a held event is "held" without a second row."""
        now = now or self.clock()
        # The subscriber and its instance's version in one read: a cached live instance
        # then needs no row read of its own.
        target = read_one(
            session,
            SUBSCRIBER_WITH_INSTANCE_VERSION,
            {"name": message_name, "key": correlation_key},
        )
        if target is None:
            messages.hold(
                session, message_name, correlation_key, payload, event_id, now, self.message_ttl
            )
            return "held"
        instance_id, task_id, version = target
        live = self.store.load(session, instance_id, version)

        def receive(step: Step) -> None:
            task = live.workflow.get_task_from_id(UUID(task_id))
            if task is None or task.state != TaskState.WAITING:
                # Rows and state change in one transaction, so this means someone edited
                # one without the other: say so rather than guess where the message goes.
                raise WorkflowError(
                    f"instance {live.id} has a subscription to {message_name!r} on task "
                    f"{task_id}, but that task is not waiting; event {event_id} not delivered"
                )
            deliver(task, message_name, payload)
            step.record("message_received", task, {"event_id": event_id, "payload": payload})

        self.stepper.run(Step(session, live, now, None, "event", traceparent), receive)
        return "delivered"

    def expired_unmatched(
        self, session: Session, now: dt.datetime | None = None, limit: int = 500
    ) -> list[messages.HeldMessage]:
        return messages.expired_unmatched(session, now or self.clock(), limit)

    def due_instances(self, session: Session, now: dt.datetime, limit: int) -> list[str]:
        rows = session.execute(due_timers_query(now, limit))
        return list(dict.fromkeys(r[0] for r in rows))

    def fire_timers(self, session: Session, instance_id: str, now: dt.datetime) -> int:
        """Fire the instance's timers due at `now`; returns how many fired."""
        live = self.store.load(session, instance_id)
        if live.status not in (ACTIVE, INCIDENT):
            return 0
        fired = 0

        def refresh(step: Step) -> None:
            nonlocal fired
            waits = live.waits
            for _task_id, (task, due) in waits.timers.items() if waits else ():
                if due <= now:
                    fired += 1
                    step.record("timer_fired", task, {"due_at": due.isoformat()})
            with clock_at(now):
                live.workflow.refresh_timers()

        if live.waits is None:
            from contractflow.workflow.waits import waits_of

            live.waits = waits_of(live.workflow)
        self.stepper.run(Step(session, live, now, None, "timer"), refresh)
        return fired

    def due_start_timers(self, session: Session, now: dt.datetime, limit: int) -> list[int]:
        return start_timers.due_ids(session, self.service, now, limit)

    def fire_start_timer(
        self, session: Session, schedule_id: int, now: dt.datetime
    ) -> LiveInstance | None:
        """Start the instance a due timer start event asks for and move its schedule on,
        in the caller's transaction; None if it is not due (any more)."""
        row = start_timers.take_due(session, schedule_id, now)
        if row is None:
            return None
        live = self.start(
            session,
            row.process_id,
            definition_id=row.definition_id,
            started_by="timer",
            channel="timer",
            from_start_timer=row,
            now=now,
        )
        start_timers.advance(session, row, now)
        return live

    def retry_incident(self, session: Session, incident_id: int, *, actor: str) -> LiveInstance:
        from contractflow.workflow.incidents import IncidentRow, resolve

        incident = session.get(IncidentRow, incident_id, populate_existing=True)
        if incident is None or incident.status != "open":
            raise NotFound(f"open incident {incident_id} does not exist")
        live = self.store.load(session, incident.instance_id)

        def retry(step: Step) -> None:
            task = live.workflow.get_task_from_id(UUID(incident.task_id))
            if task is None or task.state != TaskState.ERROR:
                raise TaskNotOpen(
                    f"task {incident.task_id} of incident {incident_id} is not failed"
                )
            task._set_state(TaskState.READY)  # the engine runs it again
            step.record("incident_retried", task, {"incident_id": incident_id})

        now = self.clock()
        self.stepper.run(Step(session, live, now, actor, "api"), retry)
        task = live.workflow.get_task_from_id(UUID(incident.task_id))
        if task is not None and task.state != TaskState.ERROR:
            resolve(session, live.id, [incident.task_id], now)
        return live

    # -- helpers ------------------------------------------------------------------------
    def _load_active(
        self, session: Session, instance_id: str, version: int | None = None
    ) -> LiveInstance:
        live = self.store.load(session, instance_id, version)
        if live.status not in (ACTIVE, INCIDENT):
            raise InstanceNotActive(f"workflow instance {instance_id} is {live.status}")
        return live


def due_timers_query(now: dt.datetime, limit: int) -> Select[Any]:
    # ORDER BY due_at keeps both databases on the due_at index range (with DISTINCT,
    # SQLite walks the primary key instead: every waiting timer, not just the due ones).
    return (
        select(TimerRow.instance_id)
        .where(TimerRow.due_at <= now)
        .order_by(TimerRow.due_at)
        .limit(limit)
    )
