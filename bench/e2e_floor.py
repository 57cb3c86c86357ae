"""What a lifecycle cannot cost less than on this machine, measured in the e2e bench's own
run so that its ratios hold on a shared, noisy machine.

Each piece is the least its part of a lifecycle does, times how often a lifecycle does it:
- an API call: the CPU seconds of one keep-alive `GET /healthz` (no database, no auth)
  through the same gunicorn web, client included — what any call costs before it does
  anything; per API call and link page request;
- a workflow: SpiffWorkflow alone, in memory, running the pre-signing-shaped process of
  the workflow bench (eight waits), once per service process a lifecycle runs (negotiation
  and approval) — what any workflow step costs before anything is durable;
- a commit: one raw psycopg transaction reading a version and writing 5 KB (the workflow
  bench's durable floor), client and PostgreSQL backend; per write a lifecycle must make
  durable (each POST, each link decision, each event handled, each mail marked sent);
- an event: kafka-python alone sending one record per request and consuming it
  (bench/raw_kafka_hop.py at 20/s, both processes' CPU); per event hop;
- a mail: smtplib sending a message of the approval mails' size on an open connection
  (the sending thread only); per mail.

floor = the sum. It leaves out every check, rule, page and template the services run, so
it is a lower bound; `cores / floor` is the most any implementation could reach here, and
measured / floor says how far the services are from it.

The stack floor (`e2e_stack_floor_*`) is the same with each API call and link page priced as
what the project's stack does at the least for it (bench/stack_floor_app.py under the same
gunicorn): a read verifies the caller's token and reads one row through a SQLAlchemy ORM
session; a write also loads its body with marshmallow and saves a 5 KB state, committed.
The services cannot answer a call on flask, SQLAlchemy and marshmallow for less, so
`cores / stack floor` bounds what any implementation on this stack reaches on this machine
before its first rule.
"""

from __future__ import annotations

import contextlib
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import requests
from sqlalchemy.engine import make_url

from bench import stack_floor_app
from bench.e2e_stack import KeepAliveApi, backend_pids, cpu_seconds, service_pids
from bench.http_bench import free_port
from bench.raw_kafka_hop import raw_hop_figures
from bench.workflow_bench import floor_commit
from contractflow.auth import TokenService
from contractflow.config import REPO_ROOT
from contractflow.db import normalise_url
from tests.e2e.deployed import DeployedStack, wait_for
from tests.e2e.mail_links import MailServer

CALLS_PER_CLIENT = 150


def floor_figures(
    stack: DeployedStack,
    mail: MailServer,
    clients: int,
    figures: dict[str, Any],
    levels: int,
) -> dict[str, Any]:
    """The least a lifecycle costs here (see above), measured now, and what the CPU a
    lifecycle took would allow on this machine's cores if nothing else ran."""
    web = f"http://127.0.0.1:{stack.ports['negotiation']}"
    call = call_floor_cpu_s(web, stack.tokens, service_pids(stack)["negotiation"][0], clients)
    workflow = workflow_floor_cpu_s()
    commit = commit_floor_cpu_s(stack.env["NEGOTIATION_DATABASE_URL"])
    event = raw_hop_figures(stack.env["KAFKA_BOOTSTRAP_SERVERS"], 20, 5)
    event_s = event["kafka_raw_hop_cpu_ms_per_event_at_20"] / 1000
    mail_s = mail_floor_cpu_s(mail)
    calls = sum(
        figures[f"e2e_api_calls_per_lifecycle_{svc}"] for svc in ("negotiation", "approval")
    )
    calls += 2 * levels  # each level's link page: GET and POST
    hops = figures["e2e_event_hops"] / max(figures["e2e_lifecycles"], 1)
    writes = figures["e2e_writes_per_lifecycle"] + hops + figures["e2e_mails_per_lifecycle"]
    least = (
        calls * call
        + 2 * workflow
        + writes * commit
        + hops * event_s
        + figures["e2e_mails_per_lifecycle"] * mail_s
    )
    cores = os.cpu_count() or 1
    read, write = stack_call_floor_cpu_s(stack, clients)
    api_writes = figures["e2e_writes_per_lifecycle"]  # each POST and link decision
    stack_least = (
        (calls - api_writes) * read
        + api_writes * write
        + 2 * workflow
        + (hops + figures["e2e_mails_per_lifecycle"]) * commit  # the workers' own commits
        + hops * event_s
        + figures["e2e_mails_per_lifecycle"] * mail_s
    )
    return {
        "e2e_stack_floor_read_cpu_ms": round(1000 * read, 3),
        "e2e_stack_floor_write_cpu_ms": round(1000 * write, 3),
        "e2e_stack_floor_cpu_s_per_lifecycle": round(stack_least, 4),
        "e2e_stack_floor_lifecycles_per_s": round(cores / stack_least, 1),
        "e2e_cpu_vs_stack_floor_ratio": round(figures["e2e_cpu_s_per_lifecycle"] / stack_least, 2),
        "e2e_floor_call_cpu_ms": round(1000 * call, 3),
        "e2e_floor_workflow_cpu_ms": round(1000 * workflow, 3),
        "e2e_floor_commit_cpu_ms": round(1000 * commit, 3),
        "e2e_floor_event_cpu_ms": round(1000 * event_s, 3),
        "e2e_floor_mail_cpu_ms": round(1000 * mail_s, 3),
        "e2e_floor_commits_per_lifecycle": round(writes, 1),
        "e2e_floor_cpu_s_per_lifecycle": round(least, 4),
        "e2e_floor_lifecycles_per_s": round(cores / least, 1),
        "e2e_cpu_vs_floor_ratio": round(figures["e2e_cpu_s_per_lifecycle"] / least, 1),
        "e2e_cpu_bound_lifecycles_per_s": round(cores / figures["e2e_cpu_s_per_lifecycle"], 2),
    }


def call_floor_cpu_s(base_url: str, tokens: TokenService, web_pid: int, clients: int) -> float:
    """CPU seconds of the web (master and workers) and of this process per GET /healthz."""
    api = KeepAliveApi(base_url, tokens, "floor", "contract-manager")
    ready = threading.Barrier(clients + 1)

    def client() -> None:
        api.call("GET", "/healthz").raise_for_status()  # this thread's connection open
        ready.wait()
        for _ in range(CALLS_PER_CLIENT):
            api.call("GET", "/healthz").raise_for_status()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    web_before, own_before = cpu_seconds([web_pid]), _own_cpu_s()
    for thread in threads:
        thread.join()
    used = cpu_seconds([web_pid]) - web_before + _own_cpu_s() - own_before
    return used / (clients * CALLS_PER_CLIENT)


def stack_call_floor_cpu_s(stack: DeployedStack, clients: int) -> tuple[float, float]:
    """CPU seconds per authenticated read and per authenticated write (bench/
    stack_floor_app.py under gunicorn, as scripts/services.sh runs the webs), its
    PostgreSQL backends and this process (the clients) included."""
    url = stack.env["NEGOTIATION_DATABASE_URL"]
    stack_floor_app.prepare(url, clients)
    port = free_port()
    log = (stack.run_dir / "logs" / "stack-floor.log").open("ab")
    env = {**os.environ, "BENCH_STACK_DATABASE_URL": url, "JWT_SECRET": stack.env["JWT_SECRET"]}
    web = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "-c", "python:contractflow.gunicorn_conf"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"),
            *("--access-logfile", "-", "--error-logfile", "-", "--no-control-socket"),
            "bench.stack_floor_app:create_app()",
        ],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=log,
    )
    try:
        api = KeepAliveApi(f"http://127.0.0.1:{port}", stack.tokens, "floor", "contract-manager")
        wait_for("the stack floor's web", lambda: _answers(api), 60, 0.1)
        database = make_url(normalise_url(url)).database
        assert database is not None

        def backends() -> list[int]:
            return list(backend_pids(url, [database]))

        step = {"decision": "accept", "note": "floor"}
        read = _cpu_per_call(
            [web.pid], backends, clients, lambda n: api.call("GET", f"/floor/items/{n}")
        )
        write = _cpu_per_call(
            [web.pid], backends, clients, lambda n: api.call("POST", f"/floor/items/{n}", json=step)
        )
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(30)
        log.close()
    return read, write


def _answers(api: KeepAliveApi) -> bool:
    with contextlib.suppress(requests.ConnectionError):
        return api.call("GET", "/floor/items/0").status_code == 200
    return False


def _cpu_per_call(
    web: list[int],
    backends: Callable[[], list[int]],
    clients: int,
    call: Callable[[int], requests.Response],
) -> float:
    """Each client thread calls on its own row (no lock waits), CALLS_PER_CLIENT times."""
    ready = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        call(n).raise_for_status()  # this thread's connection open, the pool's warm
        ready.wait()
        for _ in range(CALLS_PER_CLIENT):
            call(n).raise_for_status()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    pids = web + backends()
    before, own = cpu_seconds(pids), _own_cpu_s()
    for thread in threads:
        thread.join()
    used = cpu_seconds(pids) - before + _own_cpu_s() - own
    return used / (clients * CALLS_PER_CLIENT)


def workflow_floor_cpu_s(seconds: float = 2.0) -> float:
    """CPU seconds per lifecycle of SpiffWorkflow alone (no persistence, one thread)."""
    from bench.workflow_bench import spiff_lifecycle

    lifecycle = spiff_lifecycle("pre_signing", persist=False)
    lifecycle()  # parsed, expressions compiled
    count, started = 0, time.thread_time()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lifecycle()
        count += 1
    return (time.thread_time() - started) / count


def commit_floor_cpu_s(url: str, count: int = 300) -> float:
    """CPU seconds of this thread and of the PostgreSQL backend per floor commit."""
    server_url = make_url(normalise_url(url)).set(drivername="postgresql")
    tagged = server_url.update_query_dict({"application_name": f"e2e-floor-{os.getpid()}"})
    dsn = tagged.render_as_string(hide_password=False)
    commit, close = floor_commit(dsn)
    try:
        commit()  # connection and table warm
        with psycopg.connect(dsn) as probe:
            backend = probe.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND state = 'idle'"
                " AND pid <> pg_backend_pid()",
                (tagged.query["application_name"],),
            ).fetchone()
        assert backend is not None, "the floor's own backend is not in pg_stat_activity"
        before, own = cpu_seconds([backend[0]]), time.thread_time()
        for _ in range(count):
            commit()
        used = cpu_seconds([backend[0]]) - before + time.thread_time() - own
    finally:
        close()
        with psycopg.connect(dsn, autocommit=True) as cleanup:
            cleanup.execute("DROP TABLE IF EXISTS floor_state")
    return used / count


def mail_floor_cpu_s(mail: MailServer, count: int = 50) -> float:
    """CPU seconds of the sending thread per message of an approval mail's size."""
    with mail._lock:
        size = len(bytes(mail.messages[-1])) if mail.messages else 4_000
    line = b"x" * 76 + b"\r\n"  # as long as the mails, lines as SMTP wants them
    message = b"Subject: floor\r\n\r\n" + line * (size // len(line) + 1)
    with smtplib.SMTP("127.0.0.1", mail.port) as smtp:
        smtp.sendmail("floor@example.com", ["floor@example.com"], message)
        started = time.thread_time()
        for _ in range(count):
            smtp.sendmail("floor@example.com", ["floor@example.com"], message)
        return (time.thread_time() - started) / count


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system
