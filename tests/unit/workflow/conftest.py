"""Fixtures for the workflow runtime suite, run once on SQLite and once on PostgreSQL.

PostgreSQL comes from TEST_POSTGRES_URL (a server URL): the suite creates its own uniquely
named database there and drops it afterwards. Under CI=true a missing URL fails loudly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from marshmallow import Schema, fields
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from contractflow.db import make_engine, make_session_factory, normalise_url, unit_of_work
from contractflow.events.catalogue import Catalogue, EventType
from contractflow.events.outbox import Outbox
from contractflow.migrate import upgrade
from contractflow.workflow import WorkflowRuntime
from contractflow.workflow.waits import waits_of
from tests.new_process import act_as_new_process_per_transaction

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bpmn"
TABLES = (
    "workflow_history",
    "workflow_incident",
    "held_message",
    "message_subscription",
    "workflow_timer",
    "human_task",
    "workflow_instance",
    "workflow_start_timer",
    "workflow_definition",
    "outbox",
)
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('wf') / 'workflow.sqlite3'}"
        return
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        if os.environ.get("CI"):
            pytest.fail(
                "TEST_POSTGRES_URL is not set: the workflow suite must run on PostgreSQL in CI"
            )
        pytest.skip("TEST_POSTGRES_URL is not set (allowed locally only)")
    name = f"wf_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(normalise_url(server)).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine, "negotiation")
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(db_engine: Engine) -> sessionmaker[Session]:
    factory = make_session_factory(db_engine)
    with unit_of_work(factory) as session:
        for table in TABLES:
            session.execute(text(f"DELETE FROM {table}"))
    return factory


class FakeClock:
    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class ApprovalRequested(Schema):
    contract_id = fields.String(required=True)
    fee = fields.Integer(required=True)


class FeeApproval(Schema):
    approved = fields.Boolean(required=True)
    comment = fields.String(load_default="")


CATALOGUE = Catalogue(
    [
        EventType("test.approval.requested", 1, "approval", ApprovalRequested, "test event"),
    ]
)


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


NEW_PROCESS = -1  # live_cache value: every transaction starts as in a new process


@pytest.fixture(params=[0, 2000, NEW_PROCESS], ids=["restored", "live", "new-process"])
def live_cache(request: pytest.FixtureRequest) -> int:
    """Each workflow test three times: with the live-instance cache off, every step
    restores the state the previous step saved (a save/restore round trip); with it on,
    steps go on with the live workflow, and its saves reuse finished tasks' conversions;
    as a new process, every transaction begins with nothing parsed and nothing live, so
    each step restores against specs parsed afresh, as another process of the service
    would (the web process deciding what the worker started)."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def make_runtime(
    sessions: sessionmaker[Session], clock: FakeClock, live_cache: int
) -> Callable[..., WorkflowRuntime]:
    """A runtime like a service builds it, with every save checked to restore to the same
    state (see live_cache)."""

    def build(
        *files: str,
        cache: int | None = None,
        fail_fees: list[bool] | None = None,
        ttl: dt.timedelta = dt.timedelta(hours=6),
    ) -> WorkflowRuntime:
        runtime = WorkflowRuntime(
            "negotiation",
            outbox=Outbox(CATALOGUE, "test."),
            clock=clock,
            instance_cache_size=max(live_cache, 0) if cache is None else cache,
            message_ttl=ttl,
        )
        runtime.publish_message("approval_requested", "test.approval.requested.v1")
        runtime.forms.register("fee_approval", FeeApproval)
        runtime.forms.register("confirm", FeeApproval)
        failing = fail_fees if fail_fees is not None else []

        @runtime.service_tasks.operation("fees.compute")
        def compute_fees(call: Any) -> int:
            if failing and failing.pop(0):
                raise ConnectionError("fee service unavailable")
            return int(call.params["users"]) * 12

        _check_round_trips(runtime)
        if live_cache == NEW_PROCESS:
            act_as_new_process_per_transaction(sessions, runtime)
        with unit_of_work(sessions) as session:
            for name in files:
                runtime.deploy(session, name, fixture_text(name), "test")
        return runtime

    return build


def _check_round_trips(runtime: WorkflowRuntime) -> None:
    engine = runtime.engine
    dump = engine.dump

    def dump_and_check(workflow: Any, *, reuse: bool = True) -> bytes:
        blob = dump(workflow, reuse=reuse)
        # Finished tasks' converted form is reused from the last save: it must be exactly
        # what converting every task afresh gives.
        assert blob == dump(workflow, reuse=False), "a reused task conversion is stale"
        # The open human tasks read off the flat task maps are SpiffWorkflow's own, in order.
        expected = [str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)]
        assert list(waits_of(workflow).human) == expected
        restored = engine.load(blob, 2, workflow.spec, workflow.subprocess_specs)
        # Equal as JSON, not byte for byte: a restored task's data is rebuilt from its
        # parent's, so its keys may come in another order (a multi-instance child's do).
        assert json.loads(dump(restored)) == json.loads(blob), (
            "state does not survive a save/restore round trip"
        )
        return blob

    engine.dump = dump_and_check  # type: ignore[method-assign]
