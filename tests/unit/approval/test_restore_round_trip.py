"""Every step of an approval restored from its saved state: no instance cache, so each
decision, reminder and escalation loads the workflow from the database first."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from contractflow.db import unit_of_work
from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import OutboxMessage
from contractflow.mail import MailMessage, MailSettings
from contractflow.workflow import Scheduler
from services.approval import directory
from services.approval.bootstrap import bootstrap
from services.approval.decisions import Origin
from services.approval.models import ApprovalTask
from services.approval.settings import ApprovalSettings
from tests.conftest import service_settings
from tests.integration.harness import migrated_service

START = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
ORIGIN = Origin("api", "POST", "127.0.0.1", "pytest")


@pytest.fixture
def approval(database_factory, topic_prefix):
    clock = {"now": START}
    config = ApprovalSettings(reminder_after="P1D", escalate_after="P3D", mail=MailSettings())
    kernel = migrated_service(
        lambda s: bootstrap(s, approval_settings=config, clock=lambda: clock["now"]),
        service_settings("approval", database_factory("approval"), topic_prefix),
    )
    runtime = kernel.extensions["contractflow.workflow"]
    runtime.store.cache.capacity = 0  # every step restores the saved state
    with unit_of_work(kernel.sessions) as session:
        for pid, manager, roles in [
            ("req", "mgr", []),
            ("mgr", "boss", []),
            ("boss", None, []),
            ("fd", "boss", ["finance_director"]),
            ("gm", None, ["general_manager"]),
            ("legal", "gm", ["legal"]),
        ]:
            directory.upsert(
                session,
                pid,
                {"name": pid, "email": f"{pid}@x.test", "manager_id": manager, "roles": roles},
                START,
            )
    yield kernel, clock
    kernel.close()


def request(kernel, amount: str, risk: str) -> None:
    data = {
        "request_id": "R-1",
        "contract_id": "C-1",
        "kind": "contract",
        "amount": amount,
        "currency": "CNY",
        "risk": risk,
        "requester": "req",
        "summary": "s",
        "subject_url": "http://x/C-1",
        "provider": None,
        "reason": None,
        "changes": [],
    }
    event = CloudEvent(type="approval.requested.v1", source="/t", subject="C-1", data=data)
    with unit_of_work(kernel.sessions) as session:
        kernel.handlers["approval.requested.v1"](session, event, data)


def decide(kernel, person: str, decision: str = "approved") -> None:
    with unit_of_work(kernel.sessions) as session:
        task = session.scalars(
            select(ApprovalTask).where(
                ApprovalTask.person_id == person, ApprovalTask.status == "open"
            )
        ).one()
        kernel.extensions["approval.decider"].decide(session, task, decision, "", ORIGIN)


def decided(kernel) -> dict | None:
    with kernel.sessions() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == "approval.decided.v1")
        ).all()
        return json.loads(rows[0].payload)["data"] if rows else None


def test_three_levels_with_a_parallel_level_survive_restores(approval) -> None:
    kernel, _clock = approval
    request(kernel, "600000.00", "high")
    for person in ("mgr", "fd", "gm"):
        decide(kernel, person)
    assert decided(kernel) is None  # legal, on the parallel level, has not decided
    decide(kernel, "legal")
    data = decided(kernel)
    assert data["outcome"] == "approved"
    assert [(d["level"], d["approver"]) for d in data["decisions"]] == [
        (1, "mgr"),
        (2, "fd"),
        (3, "gm"),
        (3, "legal"),
    ]


def test_reminders_and_escalation_survive_restores(approval) -> None:
    kernel, clock = approval
    request(kernel, "5000.00", "low")
    scheduler = Scheduler(kernel.extensions["contractflow.workflow"], kernel.sessions)
    for days in (1, 2, 3):
        clock["now"] = START + dt.timedelta(days=days, minutes=1)
        scheduler.tick(clock["now"])
    with kernel.sessions() as session:
        purposes = [(m.recipient, m.purpose) for m in session.scalars(select(MailMessage))]
        task = session.scalars(select(ApprovalTask)).one()
    assert ("mgr@x.test", "approval-reminder") in purposes
    assert ("boss@x.test", "approval-request") in purposes  # escalated after three days
    assert (task.person_id, task.escalated_from) == ("boss", "mgr")
    decide(kernel, "boss", "rejected")
    assert decided(kernel)["outcome"] == "rejected"
