"""A job's wake-up hears commits from the moment it starts listening, before its first
look: a commit that lands between that look and the first wait ends the wait at once,
where it used to wait out the whole timeout (the first wait only began listening then)."""

from __future__ import annotations

import time

from contractflow.db import make_engine, unit_of_work
from contractflow.events.wakeup import RelayWakeup
from contractflow.migrate import upgrade
from contractflow.service import build_kernel
from tests.conftest import both_databases, service_settings
from tests.integration.harness import signed_event


@both_databases
def test_a_commit_before_the_first_wait_ends_it(database_factory) -> None:
    settings = service_settings("negotiation", database_factory("listen"), "listen.")
    upgrade(make_engine(settings.database_url), "negotiation")
    kernel = build_kernel(settings)
    wakeup = RelayWakeup(kernel.engine)
    try:
        wakeup.listen()  # as the worker does before the job's first look
        with unit_of_work(kernel.sessions) as session:  # lands before the job waits
            kernel.outbox.record(session, signed_event("C-1"))
        started = time.monotonic()
        wakeup.wait(20)
        took = time.monotonic() - started
    finally:
        wakeup.close()
        kernel.close()
    assert took < 5, f"the first wait took {took:.1f} s: the commit before it was not heard"
