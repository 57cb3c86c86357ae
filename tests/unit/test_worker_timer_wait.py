"""The worker's timer job sleeps until the earliest timer is due and is woken when one is
written: a timer written while it sleeps with nothing due (its look is 30 s) fires when
due, not at the next look, and waking for it costs the job one statement, not a tick;
with nothing waiting it does not query every second."""

from __future__ import annotations

import threading
import time

from sqlalchemy import event

from contractflow.db import make_engine, unit_of_work
from contractflow.migrate import upgrade
from contractflow.service import build_kernel
from contractflow.workflow import Scheduler, WorkflowRuntime
from contractflow.workflow.models import InstanceRow
from contractflow.workflow_timer_wait import timer_job
from tests.conftest import both_databases, service_settings
from tests.integration.harness import wait_until

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="Definitions_pause" targetNamespace="http://contractflow.example/bpmn">
  <bpmn:process id="pause" name="Pause" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="a_second" name="A second">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1S</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="a_second" />
    <bpmn:sequenceFlow id="f2" sourceRef="a_second" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@both_databases
def test_a_timer_written_while_the_job_sleeps_fires_when_due(database_factory) -> None:
    settings = service_settings("negotiation", database_factory("timers"), "idle.")
    upgrade(make_engine(settings.database_url), "negotiation")
    kernel = build_kernel(settings)
    runtime = WorkflowRuntime("negotiation", outbox=kernel.outbox)  # the wall clock
    with unit_of_work(kernel.sessions) as session:
        runtime.deploy(session, "negotiation/pause.bpmn", BPMN, "test")
    job = timer_job(
        Scheduler(runtime, kernel.sessions),
        runtime,
        kernel.sessions,
        kernel.engine,
        poll_s=30,
        look_s=30,
    )  # the old 1 s poll would now take 30 s
    assert job.wait is not None and job.close is not None
    ticks: list[float] = []
    stop = threading.Event()

    def worker_loop() -> None:  # as Worker._run: run, and wait when nothing was done
        while not stop.is_set():
            ticks.append(time.monotonic())
            if not job.run_once():
                job.wait(job.idle_s)  # type: ignore[misc]

    thread = threading.Thread(target=worker_loop)
    statements: list[float] = []  # the job's own, not the test's

    def seen(conn, cursor, statement, *rest) -> None:
        # SQLite's BEGIN IMMEDIATE is a statement too; a transaction is counted once.
        if threading.get_ident() == thread.ident and not statement.startswith("BEGIN"):
            statements.append(time.monotonic())

    event.listen(kernel.engine, "before_cursor_execute", seen)
    thread.start()
    try:
        wait_until(lambda: len(statements) >= 1, deadline_s=5, step_s=0.01)  # its first look
        time.sleep(1)  # idle: what it costs is what is measured
        assert len(ticks) == 1, f"{len(ticks)} ticks in an idle second"
        assert len(statements) == 1, f"{len(statements)} statements before anything was due"

        with unit_of_work(kernel.sessions) as session:  # as the web process would
            instance = runtime.start(session, "pause", started_by="tester").id
        started = time.monotonic()

        def completed() -> bool:
            with kernel.sessions() as session:
                return session.get(InstanceRow, instance).status == "completed"

        wait_until(completed, deadline_s=10, step_s=0.02)
        took = time.monotonic() - started
        assert 0.9 <= took < 2.5, f"the 1 s timer fired after {took:.2f} s"
        woken = [at for at in statements if started <= at < started + 0.8]
        assert len(woken) == 1, f"waking for a timer due later took {len(woken)} statements"
    finally:
        stop.set()
        job.close()
        thread.join(5)
        kernel.close()
    assert not thread.is_alive()
