"""A relay cycle ends on a fetch that found nothing, so once it has published what a
commit woke it for, the worker goes back to waiting for the next commit instead of running
another cycle at once: on PostgreSQL one event written alone costs the relay two
statements (fetch it; mark it and find nothing more), not three."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from sqlalchemy import event

from contractflow.db import make_engine, unit_of_work
from contractflow.events.memory_bus import InMemoryBroker, InMemoryProducer
from contractflow.migrate import upgrade
from contractflow.service import build_kernel
from contractflow.worker import Worker
from tests.conftest import service_settings
from tests.integration.harness import signed_event, wait_until


@pytest.mark.parametrize(
    "database_factory", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_one_event_costs_the_relay_two_statements(database_factory) -> None:
    settings = service_settings("negotiation", database_factory("relay"), "cycles.")
    upgrade(make_engine(settings.database_url), "negotiation")
    kernel = build_kernel(settings)
    statements: list[str] = []
    event.listen(
        kernel.engine,
        "before_cursor_execute",
        lambda conn, cursor, sql, *rest: statements.append(sql) if "WITH marked" in sql else None,
    )
    broker = InMemoryBroker()
    broker.create_topics(kernel.all_topics())
    worker = Worker(kernel, InMemoryProducer(broker), consumer=None)
    relay_job = worker.jobs[0]
    assert relay_job.name == "outbox-relay" and relay_job.wait is not None
    waiting = threading.Event()
    subscribed = []

    def wait(timeout_s: float) -> None:
        if not subscribed:  # the first wait subscribes: LISTEN in place before any write
            relay_job.wait(0.01)  # type: ignore[misc]
            subscribed.append(True)
        waiting.set()
        relay_job.wait(timeout_s)  # type: ignore[misc]
        waiting.clear()

    # No look on a timeout during the test: only commits wake it.
    worker.jobs[0] = dataclasses.replace(relay_job, wait=wait, idle_s=60)
    topic = kernel.outbox.topic_for("contract.signed.v1")
    worker.start()
    try:
        for count, contract in enumerate(("C-1", "C-2"), start=1):
            wait_until(waiting.is_set, deadline_s=10, step_s=0.005)  # back in its wait
            statements.clear()
            with unit_of_work(kernel.sessions) as session:  # as the web process would
                kernel.outbox.record(session, signed_event(contract))
            wait_until(lambda n=count: len(broker.records(topic)) == n, deadline_s=10)
        wait_until(waiting.is_set, deadline_s=10, step_s=0.005)  # any cycle after it has run
    finally:
        worker.stop()
        kernel.close()
    assert len(statements) == 2, f"{len(statements)} relay statements for one event: {statements}"
