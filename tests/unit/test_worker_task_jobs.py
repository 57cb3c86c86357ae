"""The workers' task jobs (task notices, approval's routing) wait for a transaction that
opens a human task instead of querying every second: such a commit wakes them at once
(NOTIFY from the human_task trigger on PostgreSQL, the file's commit on SQLite), a commit
that opens none does not wake them on PostgreSQL, and a lost wake-up costs one look
interval, never the task."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from contractflow.db import make_engine, unit_of_work
from contractflow.migrate import upgrade
from contractflow.service import build_kernel
from contractflow.service_workflows import on_opened_tasks
from contractflow.workflow import WorkflowRuntime
from tests.conftest import both_databases, service_settings
from tests.integration.harness import signed_event, wait_until

BPMN = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "trivial.bpmn"


@both_databases
def test_opening_a_task_wakes_the_job_at_once(database_factory) -> None:
    settings = service_settings("negotiation", database_factory("tasks"), "idle.")
    upgrade(make_engine(settings.database_url), "negotiation")
    kernel = build_kernel(settings)
    engine, sessions, outbox = kernel.engine, kernel.sessions, kernel.outbox
    runtime = WorkflowRuntime("negotiation", outbox=outbox)
    with unit_of_work(sessions) as session:
        runtime.deploy(session, "negotiation/trivial.bpmn", BPMN.read_text(), "test")
    job = on_opened_tasks("task-notices", engine, lambda: 0, look_s=30)
    assert job.wait is not None and job.close is not None
    woken = threading.Event()

    def wait_once() -> None:
        job.wait(30)  # type: ignore[misc]
        woken.set()

    try:
        job.wait(0.01)  # connected (LISTEN, or the file watched), as after the first look
        waiter = threading.Thread(target=wait_once)
        waiter.start()
        if database_factory.kind == "postgres":
            with unit_of_work(sessions) as session:  # opens no task: not for this job
                outbox.record(session, signed_event("C-5"))
            assert not woken.wait(0.5), "an outbox-only commit woke the task job"
        with unit_of_work(sessions) as session:  # as the web process starting a workflow
            runtime.start(session, "trivial", contract_id="C-6", started_by="tester")
        opened = time.monotonic()
        wait_until(woken.is_set, deadline_s=5, step_s=0.005)
        assert time.monotonic() - opened < 1, "woken by the opened task, not its 30 s look"
    finally:
        job.close()
        kernel.close()
