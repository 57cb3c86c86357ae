"""PostgreSQL stopped and restarted under running workers: events that arrive while the
database is down wait (none is dead-lettered), and once it is back every event is handled
exactly once — by the same workers, whose pooled connections died with the server."""

from __future__ import annotations

import logging
import os
import subprocess

import pytest
from sqlalchemy import select

from contractflow.events.envelope import CONTENT_TYPE
from contractflow.events.inbox import InboxMessage
from services.renewal.models import WatchedContract
from tests.conftest import require_env
from tests.integration.harness import renewal_count, running_workers, signed_event, wait_until

pytestmark = [
    pytest.mark.parametrize(
        "database_factory", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
    ),
    pytest.mark.kafka,
    pytest.mark.slow,
]


def database_server(action: str) -> None:
    require_env("PG_PORT")  # scripts/test.sh exports the test cluster's settings
    script = os.path.join(os.path.dirname(require_env("KAFKA_SCRIPT")), "postgres.sh")
    subprocess.run(["bash", script, action], check=True, env=os.environ, timeout=180)


def test_events_arriving_while_the_database_is_down_wait_and_are_handled_once(
    kafka_bootstrap, database_factory, topic_prefix, caplog
):
    caplog.set_level(logging.WARNING, logger="contractflow.events.consumer")
    with running_workers(kafka_bootstrap, database_factory, topic_prefix) as services:
        before = [signed_event() for _ in range(20)]
        services.write(*before)
        wait_until(lambda: renewal_count(services, WatchedContract) == 20, deadline_s=60)

        database_server("stop")
        try:
            # Another service publishes meanwhile; renewal's consumer cannot store them.
            during = [signed_event() for _ in range(20)]
            topic = services.negotiation.outbox.topic_for("contract.signed.v1")
            headers = [("content-type", CONTENT_TYPE.encode())]
            services.bus.producer().publish(
                [(topic, e.subject.encode(), e.to_json(), headers) for e in during]
            )
            during_ids = {e.id for e in during}

            def met_the_outage() -> bool:
                return any(
                    r.getMessage().startswith("database unavailable, will retry event")
                    and any(i in r.getMessage() for i in during_ids)
                    for r in caplog.records
                )

            # The consumer really meets the outage with these events, and waits: it
            # neither handles nor dead-letters them while the database is down.
            wait_until(met_the_outage, deadline_s=60, step_s=0.2)
            assert services.bus.records(services.renewal.dead_letter_topic) == []
        finally:
            database_server("start")
        after = [signed_event() for _ in range(20)]
        services.write(*after)

        wait_until(
            lambda: renewal_count(services, WatchedContract) == 60, deadline_s=180, step_s=0.5
        )
        with services.renewal.sessions() as session:
            ids = set(session.scalars(select(WatchedContract.contract_id)))
        assert ids == {e.subject for e in before + during + after}
        assert renewal_count(services, InboxMessage) == 60
        assert services.bus.records(services.renewal.dead_letter_topic) == []
