"""Giving a service its workflows: definitions deployed at start, the instance and task
API, the timer scheduler and held-message expiry in the worker, signed deployments at run
time (`workflow.definition.published.v1`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from contractflow.config import REPO_ROOT
from contractflow.db import utcnow
from contractflow.events import inbox
from contractflow.events.deadletter import PREFIX, DeadLetter, DeadLetterPublisher
from contractflow.events.transport import Producer
from contractflow.events.wakeup import RelayWakeup
from contractflow.service import ServiceKernel
from contractflow.worker import Coalesced, PeriodicJob
from contractflow.workflow import Scheduler, WorkflowRuntime
from contractflow.workflow.api import make_workflow_blueprint
from contractflow.workflow.definition_events import EVENT_TYPE, DefinitionPublications
from contractflow.workflow.definitions_api import make_definitions_blueprint
from contractflow.workflow.deployment import deploy_folders
from contractflow.workflow.messages import HeldMessage
from contractflow.workflow_timer_wait import timer_job

log = logging.getLogger(__name__)
WORKFLOWS = REPO_ROOT / "workflows"
DECISIONS = WORKFLOWS / "decisions"
# A committed transaction that opened human tasks NOTIFYs here on PostgreSQL (migration
# k0007's trigger on human_task); on SQLite any commit to the file wakes the waiter.
OPENED_TASKS_CHANNEL = "contractflow_tasks"
# How often a job looks anyway: a notification is lost only with its LISTEN connection.
OPENED_TASKS_LOOK_S = 10.0
# Under load at most one run per this: a notice or a routing may wait this long, a burst
# of task-opening commits costs one transaction instead of one each.
OPENED_TASKS_GAP_S = 0.25


def on_opened_tasks(
    name: str, engine: Engine, run_once: Callable[[], int], look_s: float = OPENED_TASKS_LOOK_S
) -> PeriodicJob:
    """A worker job that handles newly opened human tasks (their notices, their routing):
    run when a transaction that opened some commits, instead of a query every second."""
    wakeup = RelayWakeup(engine, channel=OPENED_TASKS_CHANNEL)
    woken = Coalesced(wakeup.wait, wakeup.close, OPENED_TASKS_GAP_S, wakeup.listen)
    return PeriodicJob.woken_by(name, run_once, woken, look_s)


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
        return timer_job(scheduler, runtime, kernel.sessions, kernel.engine, timer_poll_s)

    def expiry(producer: Producer) -> PeriodicJob:
        dead_letter = unmatched_to_dead_letters(
            producer, kernel.dead_letter_topic, kernel.consumer_group
        )

        def run_once() -> int:
            return len(scheduler.expire_messages(dead_letter=dead_letter))

        return PeriodicJob("held-message-expiry", run_once, idle_s=30)

    kernel.jobs.extend([timers, expiry])


def unmatched_to_dead_letters(
    producer: Producer, topic: str, consumer: str
) -> Callable[[Session, HeldMessage], None]:
    """What the expiry job does with each held message past its TTL, in its transaction."""

    def dead_letter(session: Session, held: HeldMessage) -> None:
        publish_unmatched(producer, topic, consumer, held)
        if held.origin is not None:
            # A replay of the letter is the same event id again: without its inbox row
            # it is handled anew (being held was all its handling did).
            inbox.forget(session, consumer, held.event_id)

    return dead_letter


def publish_unmatched(producer: Producer, topic: str, consumer: str, held: HeldMessage) -> None:
    """A held message nobody waited for, set aside on the dead-letter topic with the reason.

    The letter is the original event, naming the topic, partition and offset it was read
    from and its event id, as any dead letter does, so `contractflow dlq replay` sends it
    back there. A message held before held messages kept their record (or not consumed
    from Kafka) has only its payload; its letter says so and cannot be replayed.
    Published inside the transaction that deletes the held row: if the publish fails the
    row stays and is tried again; if the commit fails the letter may appear twice.
    """
    if held.origin is not None:
        letter = DeadLetter("unmatched-message", held.reason, attempts=0, event_id=held.event_id)
        DeadLetterPublisher(producer, topic, consumer).publish(held.origin, letter, utcnow())
        return
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
