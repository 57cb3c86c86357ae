"""The broker stopped and restarted mid-stream: every event written before or during the
outage is delivered once it is back, and none twice. Real Kafka and real worker threads."""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import select

from contractflow.events.inbox import InboxMessage
from services.renewal.models import WatchedContract
from tests.conftest import both_databases, require_env
from tests.integration.harness import renewal_count, running_workers, signed_event, wait_until

pytestmark = [both_databases, pytest.mark.kafka, pytest.mark.slow]


def broker(action: str) -> None:
    script = require_env("KAFKA_SCRIPT")
    subprocess.run(["bash", script, action], check=True, env=os.environ, timeout=180)


def test_events_written_before_and_during_an_outage_arrive_once_after_restart(
    kafka_bootstrap, database_factory, topic_prefix
):
    with running_workers(kafka_bootstrap, database_factory, topic_prefix) as services:
        before = [signed_event() for _ in range(30)]
        services.write(*before)
        wait_until(lambda: renewal_count(services, WatchedContract) == 30, deadline_s=60)

        broker("stop")
        try:
            during = [signed_event() for _ in range(30)]
            for event in during:  # one transaction each, as separate requests would
                services.write(event)
        finally:
            broker("start")
        after = [signed_event() for _ in range(30)]
        services.write(*after)

        wait_until(
            lambda: renewal_count(services, WatchedContract) == 90, deadline_s=180, step_s=0.5
        )
        with services.renewal.sessions() as session:
            ids = set(session.scalars(select(WatchedContract.contract_id)))
        assert ids == {e.subject for e in before + during + after}
        assert renewal_count(services, InboxMessage) == 90
