"""Giving a service its workflows: definitions deployed at start, the instance and task
API, the timer scheduler and held-message expiry in the worker, signed deployments at run
time (`workflow.definition.published.v1`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sqlalchemy.orm import Session

from contractflow.config import REPO_ROOT
from contractflow.db import utcnow
from contractflow.events.deadletter import PREFIX
from contractflow.events.transport import Producer
from contractflow.service import ServiceKernel
from contractflow.worker import PeriodicJob
from contractflow.workflow import Scheduler, WorkflowRuntime
from contractflow.workflow.api import make_workflow_blueprint
from contractflow.workflow.definition_events import EVENT_TYPE, DefinitionPublications
from contractflow.workflow.definitions_api import make_definitions_blueprint
from contractflow.workflow.deployment import deploy_folders
from contractflow.workflow.messages import HeldMessage

log = logging.getLogger(__name__)
WORKFLOWS = REPO_ROOT / "workflows"
DECISIONS = WORKFLOWS / "decisions"


def attach_workflows(
    kernel: ServiceKernel,
    runtime: WorkflowRuntime,
    *,
    folder: Path | None = None,
    starter_roles: tuple[str, ...] = ("workflow-admin",),
    timer_poll_s: float = 1.0,
) -> None:
    """Deploy `workflows/<service>/` (plus the shared decisions) and wire the runtime in.

    The database must be migrated first (`contractflow migrate`). A file that cannot be
    deployed is refused and logged with every problem (file, element, reason), and the
    service goes on with the versions it has; only a registration missing for a version
    already deployed (a programming error) stops start-up.
    """
    folder = folder or WORKFLOWS / kernel.service
    shared = [DECISIONS] if DECISIONS.is_dir() else []
    deploy_folders(runtime, kernel.sessions, *shared, folder)
    kernel.extensions["contractflow.workflow"] = runtime
    kernel.blueprints.append(
        make_workflow_blueprint(runtime, kernel.sessions, starter_roles=starter_roles)
    )
    kernel.blueprints.append(make_definitions_blueprint(runtime, kernel.sessions))
    kernel.handlers[EVENT_TYPE] = DefinitionPublications(runtime, kernel.settings.deploy_secret)
    scheduler = Scheduler(runtime, kernel.sessions)

    def timers(_producer: Producer) -> PeriodicJob:
        return PeriodicJob("workflow-timers", scheduler.tick, idle_s=timer_poll_s)

    def expiry(producer: Producer) -> PeriodicJob:
        def dead_letter(_session: Session, held: HeldMessage) -> None:
            publish_unmatched(producer, kernel.dead_letter_topic, kernel.consumer_group, held)

        def run_once() -> int:
            return len(scheduler.expire_messages(dead_letter=dead_letter))

        return PeriodicJob("held-message-expiry", run_once, idle_s=30)

    kernel.jobs.extend([timers, expiry])


def publish_unmatched(producer: Producer, topic: str, consumer: str, held: HeldMessage) -> None:
    """A held message nobody waited for, set aside on the dead-letter topic with the reason.

    Published inside the transaction that deletes the held row: if the publish fails the
    row stays and is tried again; if the commit fails the letter may appear twice.
    """
    value = json.dumps(
        {
            "event_id": held.event_id,
            "message_name": held.message_name,
            "correlation_key": held.correlation_key,
            "payload": held.payload,
            "received_at": held.received_at.isoformat(),
        },
        ensure_ascii=False,
        default=str,
    ).encode()
    headers = [
        (PREFIX + "reason", b"unmatched-message"),
        (PREFIX + "error", held.reason.encode()),
        # The event that carried it was handled (it was held, not failed): its id finds it
        # in the sender's outbox; there is no broker message to replay.
        (PREFIX + "original-event-id", held.event_id.encode()),
        (PREFIX + "consumer", consumer.encode()),
        (PREFIX + "attempts", b"0"),
        (PREFIX + "failed-at", utcnow().isoformat().encode()),
    ]
    producer.publish([(topic, held.correlation_key.encode(), value, headers)])
