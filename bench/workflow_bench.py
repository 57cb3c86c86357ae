"""Workflow runtime benchmark: lifecycles per second from the in-memory limit to durable.

For the trivial process (start → user task → end) and a pre-signing-shaped one (eight
waits: user tasks, a parallel review, a message out and back) it measures, in one run:

- engine_memory: SpiffWorkflow alone, no persistence (the limit);
- engine_naive: SpiffWorkflow serialising and restoring the whole workflow at every wait;
- runtime_sqlite / runtime_postgres: this runtime through its Python API, one durable
  transaction per step (start, each task, the message), as a service would drive it;
- runtime_*_cold: the same with the live-instance cache off, so every step restores the
  state from the database (what a step costs when another process ran the previous one);
- runtime_floor_postgres: SpiffWorkflow in memory plus, at every wait, the least a durable
  runtime must do — one raw psycopg transaction reading a version and writing a state of
  this runtime's size, nothing encoded (floor_commit). Nothing durable in Python on this
  machine beats it, so `runtime_postgres_vs_floor_ratio` says how much of the way there
  this runtime is, and the floor's own ratio to memory what any durable target can ask.

Also the idle scheduler tick with 100,000 waiting timers, none due (median ms).
`QUICK=1` keeps the run short; PostgreSQL figures need BENCH_POSTGRES_URL (a server URL).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from marshmallow import Schema, fields
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import postgres_database  # noqa: E402
from bench.results import merge_results, quick  # noqa: E402
from contractflow.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from contractflow.events.catalogue import Catalogue, EventType  # noqa: E402
from contractflow.events.outbox import Outbox  # noqa: E402
from contractflow.migrate import upgrade  # noqa: E402
from contractflow.workflow import Scheduler, TaskFilter, WorkflowRuntime  # noqa: E402
from contractflow.workflow.models import InstanceRow, TimerRow  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "bpmn"
PROCESSES = {"trivial": "trivial.bpmn", "pre_signing": "pre_signing.bpmn"}
VARIABLES = {"users": 5, "onsite": True}
SECONDS = 2.0 if quick() else 6.0


class ApprovalRequested(Schema):
    contract_id = fields.String(required=True)
    fee = fields.Integer(required=True)


class Confirm(Schema):
    approved = fields.Boolean(load_default=True)


Slice = Callable[[float], tuple[int, float]]  # run for ~seconds: (lifecycles, elapsed)
SLICE_SECONDS = 0.25


def serial(lifecycle: Callable[[], None]) -> Slice:
    """One client driving lifecycles back to back."""
    lifecycle()  # warm caches: parsing, compiled expressions, connections

    def run(seconds: float) -> tuple[int, float]:
        count, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            lifecycle()
            count += 1
        return count, elapsed

    return run


def concurrent(lifecycle: Callable[[], None], clients: int) -> Slice:
    """`clients` threads driving their own instances: what one service process sustains
    while each client waits on its commits."""
    lifecycle()

    def run(seconds: float) -> tuple[int, float]:
        counts = [0] * clients
        deadline = time.perf_counter() + seconds

        def client(index: int) -> None:
            while time.perf_counter() < deadline:
                lifecycle()
                counts[index] += 1

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(counts), time.perf_counter() - started

    return run


def interleaved_rates(variants: dict[str, Slice], seconds: float = SECONDS) -> dict[str, float]:
    """Lifecycles per second of each variant, measured in short turns, round robin, until
    each has run `seconds`: this machine is shared, and a burst of someone else's load then
    falls on every variant alike instead of on whichever ran at that moment — the ratios
    between them are what the figures are for."""
    counts = dict.fromkeys(variants, 0)
    elapsed = dict.fromkeys(variants, 0.0)
    while min(elapsed.values()) < seconds:
        for name, run in variants.items():
            done, took = run(SLICE_SECONDS)
            counts[name] += done
            elapsed[name] += took
    return {name: counts[name] / elapsed[name] for name in variants}


# -- SpiffWorkflow alone ------------------------------------------------------------------
def spiff_lifecycle(
    process_id: str, persist: bool, commit: Callable[[], None] | None = None
) -> Callable[[], None]:
    """`persist`: serialise and restore the whole workflow at every wait (the naive way);
    `commit`: run this at every wait instead (the durable floor, see floor_commit)."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(FIXTURES / PROCESSES[process_id]))
    spec = parser.get_spec(process_id)
    subprocess_specs = parser.get_subprocess_specs(process_id)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def at_wait(workflow: BpmnWorkflow) -> BpmnWorkflow:
        if commit is not None:
            commit()
        if not persist:
            return workflow
        return serializer.deserialize_json(serializer.serialize_json(workflow))

    def lifecycle() -> None:
        workflow = BpmnWorkflow(spec, subprocess_specs)
        workflow.task_tree.data.update(VARIABLES, contract_id="C-1")
        workflow.do_engine_steps()
        workflow = at_wait(workflow)
        while not workflow.is_completed():
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            if ready:
                ready[0].data.update(approved=True)
                ready[0].run()
            else:
                task = next(iter(workflow.event_manager.tasks.values()))
                workflow.send_event(BpmnEvent(task.task_spec.event_definition, {"ok": True}))
            workflow.get_events()
            workflow.do_engine_steps()
            workflow = at_wait(workflow)

    return lifecycle


def floor_commit(url: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """The least a durable runtime does at a wait, on raw psycopg with nothing to encode:
    one transaction that reads the instance row's version and writes a state of the size
    this runtime writes (about 5 KB), its BEGIN, read and write in one round trip.
    SpiffWorkflow in memory plus this at every wait is the durable floor: what no durable
    runtime in Python on this machine and database can beat. Returns (commit, close)."""
    connection = psycopg.connect(url)
    connection.execute("CREATE TABLE floor_state (id int PRIMARY KEY, version int, state bytea)")
    connection.execute("INSERT INTO floor_state VALUES (1, 0, '')")
    connection.commit()
    state = b"x" * 5000

    def commit() -> None:
        with connection.pipeline():
            connection.execute("SELECT version FROM floor_state WHERE id = 1")
            connection.execute(
                "UPDATE floor_state SET version = version + 1, state = %s WHERE id = 1", (state,)
            )
        connection.commit()

    return commit, connection.close


# -- this runtime ---------------------------------------------------------------------------
def make_runtime(cache: int) -> WorkflowRuntime:
    catalogue = Catalogue(
        [EventType("bench.approval.requested", 1, "approval", ApprovalRequested, "bench")]
    )
    runtime = WorkflowRuntime(
        "negotiation", outbox=Outbox(catalogue, "bench."), instance_cache_size=cache
    )
    runtime.publish_message("approval_requested", "bench.approval.requested.v1")
    runtime.forms.register("confirm", Confirm)
    return runtime


def runtime_lifecycle(url: str, process_id: str, cache: int) -> Callable[[], None]:
    engine = make_engine(url)
    upgrade(engine, "negotiation")
    sessions = make_session_factory(engine)
    runtime = make_runtime(cache)
    with unit_of_work(sessions) as session:
        for name in PROCESSES.values():
            runtime.deploy(session, name, (FIXTURES / name).read_text(), "bench")

    def lifecycle() -> None:
        contract_id = uuid.uuid4().hex[:16]
        with unit_of_work(sessions) as session:
            live = runtime.start(session, process_id, contract_id=contract_id, variables=VARIABLES)
        # A step returns the tasks it opened, as the HTTP API does: no inbox query needed.
        status, open_tasks = live.status, live.open_task_ids
        while status == "active":
            with unit_of_work(sessions) as session:
                if open_tasks:
                    live = runtime.complete_task(
                        session, open_tasks[0], {"approved": True}, actor="bench", admin=True
                    )
                    status, open_tasks = live.status, live.open_task_ids
                    continue
                if (
                    runtime.correlate(
                        session, "approval_decided", contract_id, {"ok": True}, uuid.uuid4().hex
                    )
                    == "held"
                ):
                    raise RuntimeError("the benchmark instance was not waiting for a message")
                tasks = runtime.tasks(session, TaskFilter(instance_id=live.id))
                open_tasks = [t.id for t in tasks]

    return lifecycle


def sqlite_url(folder: str, name: str) -> str:
    return f"sqlite:///{folder}/{name}.sqlite3"


# -- idle scheduler -------------------------------------------------------------------------
def idle_tick_ms(url: str, waiting: int = 100_000) -> float:
    engine = make_engine(url)
    upgrade(engine, "negotiation")
    sessions = make_session_factory(engine)
    runtime = make_runtime(0)
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(sessions) as session:
        definition = runtime.deploy(
            session, "trivial.bpmn", (FIXTURES / "trivial.bpmn").read_text(), "bench"
        )
        definition_id = definition.id
    batch = 10_000
    for first in range(0, waiting, batch):
        ids = [str(uuid.UUID(int=first + i + 1)) for i in range(batch)]
        with unit_of_work(sessions) as session:
            session.execute(
                insert(InstanceRow),
                [
                    {
                        "id": i,
                        "definition_id": definition_id,
                        "process_id": "trivial",
                        "contract_id": None,
                        "status": "active",
                        "version": 1,
                        "state_format": 2,
                        "state": b"{}",
                        "started_by": "bench",
                        "started_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            session.execute(
                insert(TimerRow),
                [
                    {
                        "instance_id": i,
                        "task_id": i,
                        "element_id": "remind",
                        "due_at": now + dt.timedelta(days=30, seconds=n),
                    }
                    for n, i in enumerate(ids)
                ],
            )
    scheduler = Scheduler(runtime, sessions)
    samples = []
    for _ in range(50 if quick() else 200):
        started = time.perf_counter()
        assert scheduler.tick(now) == 0
        samples.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return statistics.median(samples)


def main() -> None:
    figures: dict[str, float | int | str] = {}
    postgres_server = os.environ.get("BENCH_POSTGRES_URL")
    cleanups: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory() as folder:
        for process_id in PROCESSES:
            prefix = "" if process_id == "pre_signing" else "trivial_"
            variants: dict[str, Slice] = {
                "engine_memory": serial(spiff_lifecycle(process_id, persist=False)),
                "engine_naive": serial(spiff_lifecycle(process_id, persist=True)),
                "runtime_sqlite": serial(
                    runtime_lifecycle(
                        sqlite_url(folder, f"{process_id}_warm"), process_id, cache=2000
                    )
                ),
                "runtime_sqlite_cold": serial(
                    runtime_lifecycle(sqlite_url(folder, f"{process_id}_cold"), process_id, cache=0)
                ),
            }
            if postgres_server:
                url, drop = postgres_database(postgres_server, "wf_bench")
                cleanups.append(drop)
                commit, close = floor_commit(url)
                cleanups.append(close)
                variants["runtime_floor_postgres"] = serial(
                    spiff_lifecycle(process_id, persist=False, commit=commit)
                )
                for variant, cache in (("runtime_postgres", 2000), ("runtime_postgres_cold", 0)):
                    url, drop = postgres_database(postgres_server, "wf_bench")
                    cleanups.append(drop)
                    variants[variant] = serial(runtime_lifecycle(url, process_id, cache))
                url, drop = postgres_database(postgres_server, "wf_bench")
                cleanups.append(drop)
                variants["runtime_postgres_4_clients"] = concurrent(
                    runtime_lifecycle(url, process_id, 2000), clients=4
                )
            measured = interleaved_rates(variants)
            if "runtime_floor_postgres" in measured:
                figures[f"{prefix}runtime_postgres_vs_floor_ratio"] = round(
                    measured["runtime_postgres"] / measured["runtime_floor_postgres"], 3
                )
            memory = measured["engine_memory"]
            for name, value in measured.items():
                figures[f"{prefix}{name}_lifecycles_per_s"] = round(value, 1)
                if name != "engine_memory":
                    figures[f"{prefix}{name}_vs_memory_ratio"] = round(value / memory, 3)
            print(process_id, json.dumps({k: round(v, 1) for k, v in measured.items()}))
        figures["scheduler_idle_tick_ms_100k_sqlite"] = round(
            idle_tick_ms(sqlite_url(folder, "idle")), 3
        )
        if postgres_server:
            url, drop = postgres_database(postgres_server, "wf_bench")
            cleanups.append(drop)
            figures["scheduler_idle_tick_ms_100k"] = round(idle_tick_ms(url), 3)
        else:
            figures["scheduler_idle_tick_ms_100k"] = figures["scheduler_idle_tick_ms_100k_sqlite"]
    for cleanup in reversed(cleanups):  # connections closed before their database drops
        cleanup()
    merge_results(figures)
    print(json.dumps(figures, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
