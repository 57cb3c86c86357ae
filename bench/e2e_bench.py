"""Contract approval lifecycles per second through the deployed services, measured from outside.

The three services as `scripts/services.sh` starts them (gunicorn web + worker each) on
PostgreSQL (a database each) and Kafka, a real SMTP server (aiosmtpd), and concurrent
clients (threads driving HTTP) each running one contract at a time: requirement, research,
draft, the three reviews, a two-level approval (department manager, finance director)
decided through the links in the mails (GET the link page, POST its form keeping the
cookie), signing, until negotiation shows the contract signed (`contract.signed`).

Figures (merged into bench/results/latest.json):
  e2e_lifecycles_per_s           lifecycles finished within the measured window / window
  e2e_event_hop_p50_ms / _p99_ms outbox created_at -> the other service's inbox processed_at,
                                 every event the measured lifecycles caused, read from the
                                 services' databases after the run
  e2e_cpu_s_per_lifecycle_<svc>  CPU seconds (web master + its workers + worker process, from
                                 /proc/<pid>/stat) over the run / lifecycles run
  e2e_postgres_cpu_s_per_lifecycle_<svc>  the same for the PostgreSQL backends of its database
                                 (a lower bound: a backend that ended within the run is missed)
  e2e_client_cpu_s_per_lifecycle the clients' own (this process)
  e2e_cpu_s_per_lifecycle        all of it: services, their PostgreSQL backends, clients
  e2e_cpu_bound_lifecycles_per_s this machine's cores / that: the rate the CPU allows
                                 with nothing else running (the machine is shared)
  e2e_floor_*                    the least a lifecycle costs, measured in the same run
                                 (bench/e2e_floor.py): per API call, workflow, commit,
                                 event and mail, in all (cpu_s_per_lifecycle), and
                                 cores / it (lifecycles_per_s)
  e2e_writes_per_lifecycle, e2e_mails_per_lifecycle  what the floor counts them from
  e2e_cpu_vs_floor_ratio         e2e_cpu_s_per_lifecycle / e2e_floor_cpu_s_per_lifecycle
  e2e_stack_floor_*              the floor with each call priced as the least the stack
                                 (flask, SQLAlchemy ORM, marshmallow, gunicorn) does for it:
                                 a token-checked row read, a write committing a 5 KB state
                                 (bench/stack_floor_app.py); e2e_cpu_vs_stack_floor_ratio
  e2e_idle_cpu_pct_<svc>_<web|worker>  % of a core each process uses idle (IDLE_S after
                                 the warm-up, before the run)
  e2e_api_calls_per_lifecycle_<svc>, e2e_api_call_mean_ms_<svc>  the clients' API calls
  e2e_phase_<phase>_p50_ms       where a lifecycle's wall time goes, per phase
  e2e_hop_p50_ms_<event type>, e2e_hop_p99_ms_<event type>  the hops per event type

Environment: BENCH_POSTGRES_URL (a server URL; `scripts/bench.sh` sets it),
KAFKA_BOOTSTRAP_SERVERS, QUICK=1 (about two minutes), E2E_CLIENTS [8], E2E_SECONDS [40 quick,
120], E2E_MAX_LIFECYCLES [400 quick, 3000] (no lifecycle starts after either bound),
E2E_PORT_BASE (fixed ports base+1.. instead of free ones).
Run alone: `python -m bench.e2e_bench`.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.e2e_floor import floor_figures
from bench.e2e_stack import (
    IndexedMailServer,
    KeepAliveApi,
    Meter,
    database_now,
    databases,
    delete_topics,
    fixed_ports,
    hops,
    percentile,
)
from bench.results import merge_results, quick
from tests.e2e import lifecycle_data as data
from tests.e2e.deployed import SERVICES, DeployedStack, wait_for
from tests.e2e.mail_links import ApproverBrowser

# 100 named users, medium complexity: 440,960.00 CNY, above 100,000 and not above 500,000,
# so the routing table asks two levels (department manager, finance director).
NAMED_USERS, COMPLEXITY = 100, "medium"
LEVELS = 2
TARGET_PER_S, TARGET_HOP_P99_MS = 20, 100
STEP_S = 0.05  # poll step of the clients' waits (what changes through Kafka)
IDLE_S = 10.0  # how long the idle services are measured, after the warm-up
PHASES = ("pre_signing", "to_approval", "level_1", "level_2", "to_sign_task", "signing")


def terms() -> dict[str, Any]:
    t = copy.deepcopy(data.contract_terms())
    t["licence"]["user_count"] = NAMED_USERS
    t["fees"]["usage"]["named_users"] = NAMED_USERS
    t["fees"]["system_complexity"] = COMPLEXITY
    return t


class Lifecycle:
    """One client: contracts one after another, requirement to signed."""

    ROLES = {
        "manager": (data.REQUESTER, "contract-manager"),
        "legal": ("legal.chen", "legal"),
        "technical": ("tech.zhou", "technical"),
        "finance": ("fin.sun", "finance"),
    }

    def __init__(self, stack: DeployedStack, mail: IndexedMailServer) -> None:
        self.users = {
            k: KeepAliveApi(f"http://127.0.0.1:{stack.ports['negotiation']}", stack.tokens, *v)
            for k, v in self.ROLES.items()
        }
        self.manager = self.users["manager"]
        self.admin = KeepAliveApi(
            f"http://127.0.0.1:{stack.ports['approval']}",
            stack.tokens,
            "admin.e2e",
            "approval-admin",
        )
        self.mail = mail
        self.browser = ApproverBrowser()
        self.terms = terms()
        self.provider = self.terms["parties"]["provider"]["name"]

    def task(self, contract_id: str, element: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            tasks = self.manager.get(f"/contracts/{contract_id}/tasks")["tasks"]
            return next((t for t in tasks if t["element_id"] == element), None)

        return wait_for(f"task {element} of {contract_id}", found, 60, STEP_S)

    def complete(self, contract_id: str, element: str, who: str, form: dict[str, Any]) -> None:
        task = self.task(contract_id, element)
        self.users[who].ok("POST", f"/workflow/tasks/{task['id']}/complete", json={"data": form})

    def status(self, contract_id: str, status: str) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            contract = self.manager.get(f"/contracts/{contract_id}")
            return contract if contract["status"] == status else None

        return wait_for(f"contract {contract_id} {status}", reached, 60, STEP_S)

    def open_task_of_level(self, request_id: str, level: int) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            response = self.admin.call("GET", f"/approval/requests/{request_id}")
            if response.status_code == 404:
                return None
            assert response.status_code == 200, response.text
            open_tasks = [
                t for t in response.json()["tasks"] if t["status"] == "open" and t["level"] == level
            ]
            return open_tasks[0] if open_tasks else None

        return wait_for(f"request {request_id} level {level} open", found, 60, STEP_S)

    def run(self) -> dict[str, float]:
        """One contract to signed; answers the wall seconds of each phase."""
        phases: dict[str, float] = {}
        began = last = time.monotonic()

        def lap(phase: str) -> None:
            nonlocal last
            now = time.monotonic()
            phases[phase] = now - last
            last = now

        created = self.manager.ok("POST", "/contracts", expect=(201,), json={"terms": self.terms})
        cid = created["contract_id"]
        need = {"need": "OA 运维 / OA operations", "budget": {"amount": data.BUDGET}}
        self.complete(cid, "define_requirement", "manager", need)
        self.complete(cid, "research_provider", "manager", {"chosen_provider": self.provider})
        self.task(cid, "draft_contract")
        self.manager.ok("POST", f"/contracts/{cid}/submit", json={"note": "ready"})
        for role in ("legal", "technical", "finance"):
            self.complete(cid, f"{role}_review", role, {"decision": "accept"})
        lap("pre_signing")
        request_id = self.status(cid, "awaiting_approval")["approval_request_id"]
        task = self.open_task_of_level(request_id, 1)
        lap("to_approval")
        for level in range(1, LEVELS + 1):
            if level > 1:
                task = self.open_task_of_level(request_id, level)
            link = self.mail.link(task["task_id"])
            self.browser.decide(link, "approved", f"approved by {task['person_id']}")
            lap(f"level_{level}")
        self.complete(cid, "sign_contract", "manager", data.signing_form())
        lap("to_sign_task")
        self.status(cid, "signed")
        lap("signing")
        phases["total"] = time.monotonic() - began
        return phases


def drive(
    stack: DeployedStack, mail: IndexedMailServer, clients: int, seconds: float, most: int
) -> tuple[list[tuple[float, dict[str, float]]], list[str], float, float]:
    """`clients` threads running lifecycles until `seconds` passed or `most` were started;
    answers (finished at, phases) of each, the errors, the start and the stop time."""
    results: list[tuple[float, dict[str, float]]] = []
    errors: list[str] = []
    lock = threading.Lock()
    started = [0]
    start = time.monotonic()
    stop_at = start + seconds

    def client() -> None:
        lifecycle = Lifecycle(stack, mail)
        while time.monotonic() < stop_at:
            with lock:
                if started[0] >= most:
                    return
                started[0] += 1
            try:
                phases = lifecycle.run()
            except Exception as exc:  # counted and shown, the run goes on
                with lock:
                    errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
                    if len(errors) == 1:
                        traceback.print_exc()
                continue
            with lock:
                results.append((time.monotonic(), phases))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)  # bounded: a lifecycle waits at most 60 s per step
    return results, errors, start, stop_at


def measure(
    stack: DeployedStack, mail: IndexedMailServer, clients: int, seconds: float, most: int
) -> dict[str, Any]:
    admin = stack.api("approval", "admin.e2e", "approval-admin", "workflow-admin")
    for person in data.DIRECTORY:
        admin.ok("PUT", f"/approval/directory/people/{person}", json=data.person_body(person))
    warm = Lifecycle(stack, mail).run()  # warm: connections, caches, topic metadata
    print(f"[e2e-bench] warm-up lifecycle {warm['total']:.1f}s: {warm}", file=sys.stderr)
    idle = idle_cpu_percent(stack)

    meter = Meter(stack)
    since = database_now(stack.env["NEGOTIATION_DATABASE_URL"])
    meter.start()
    KeepAliveApi.calls.clear()
    with mail._lock:
        mails_before = len(mail.messages)
    results, errors, start, stop_at = drive(stack, mail, clients, seconds, most)
    ended = time.monotonic()
    time.sleep(1.0)  # renewal takes contract.signed in after negotiation shows it signed
    used = meter.used()
    used_client = used.pop("client")

    done = len(results)
    per = max(done, 1)
    in_window = sum(1 for at, _ in results if at <= stop_at)
    hop = hops({svc: stack.env[f"{svc.upper()}_DATABASE_URL"] for svc in SERVICES}, since)
    hop_ms = [ms for _, ms in hop]
    by_type: dict[str, list[float]] = defaultdict(list)
    for kind, ms in hop:
        by_type[kind.removesuffix(".v1")].append(ms)
    totals = [p["total"] for _, p in results]

    figures: dict[str, Any] = {
        "e2e_lifecycles_per_s": round(in_window / seconds, 2),
        "e2e_lifecycles_per_s_with_drain": round(done / (ended - start), 2),
        "e2e_lifecycles": done,
        "e2e_lifecycle_errors": len(errors),
        "e2e_clients": clients,
        "e2e_seconds": seconds,
        "e2e_approval_levels": LEVELS,
        "e2e_event_hop_p50_ms": percentile(hop_ms, 50),
        "e2e_event_hop_p99_ms": percentile(hop_ms, 99),
        "e2e_event_hops": len(hop_ms),
        "e2e_lifecycle_p50_s": percentile(totals, 50),
        "e2e_lifecycle_p99_s": percentile(totals, 99),
        "e2e_client_cpu_s_per_lifecycle": round(used_client / per, 3),
    }
    figures["e2e_vs_target_ratio"] = round(figures["e2e_lifecycles_per_s"] / TARGET_PER_S, 3)
    total_cpu = sum(v for k, v in used.items() if k in SERVICES or k.startswith("postgres_"))
    figures["e2e_cpu_s_per_lifecycle"] = round((total_cpu + used_client) / per, 3)
    for key, seconds_used in sorted(used.items()):
        name = key.replace("postgres_", "postgres_cpu_s_per_lifecycle_")
        if name == key:
            name = f"cpu_s_per_lifecycle_{key}"
        figures[f"e2e_{name}"] = round(seconds_used / per, 3)
    for svc in ("negotiation", "approval"):  # the link pages' GET + POST are not counted
        tallies = [t for (port, _), t in KeepAliveApi.calls.items() if port == stack.ports[svc]]
        calls, spent = sum(t[0] for t in tallies), sum(t[1] for t in tallies)
        figures[f"e2e_api_calls_per_lifecycle_{svc}"] = round(calls / per, 1)
        figures[f"e2e_api_call_mean_ms_{svc}"] = round(1000 * spent / max(calls, 1), 1)
    names = {port: svc for svc, port in stack.ports.items()}
    for (port, path), (calls, spent) in sorted(KeepAliveApi.calls.items()):
        print(
            f"[e2e-bench] {names[port]} {path}: {calls / per:.1f} calls per lifecycle, "
            f"mean {1000 * spent / max(calls, 1):.0f} ms",
            file=sys.stderr,
        )
    posts = sum(t[0] for (_, path), t in KeepAliveApi.calls.items() if path.startswith("POST "))
    figures["e2e_writes_per_lifecycle"] = round(posts / per + LEVELS, 1)  # + each decision
    with mail._lock:
        figures["e2e_mails_per_lifecycle"] = round((len(mail.messages) - mails_before) / per, 2)
    figures.update(floor_figures(stack, mail, clients, figures, LEVELS))
    figures.update(idle)
    for phase in PHASES:
        figures[f"e2e_phase_{phase}_p50_ms"] = percentile([p[phase] * 1000 for _, p in results], 50)
    for kind, values in sorted(by_type.items()):
        figures[f"e2e_hop_p50_ms_{kind}"] = percentile(values, 50)
        figures[f"e2e_hop_p99_ms_{kind}"] = percentile(values, 99)
        figures[f"e2e_hops_{kind}"] = len(values)
    if errors:
        print(f"[e2e-bench] {len(errors)} lifecycles failed; first: {errors[:3]}", file=sys.stderr)
    return figures


def idle_cpu_percent(stack: DeployedStack) -> dict[str, float]:
    """% of a core each service's processes use with nothing to do (polls, heartbeats):
    what a shorter poll costs shows here, not in the per-lifecycle figures."""
    meter = Meter(stack)
    meter.start()
    time.sleep(IDLE_S)
    used = meter.used()
    return {
        f"e2e_idle_cpu_pct_{key}": round(100 * used[key] / IDLE_S, 2)
        for key in sorted(used)
        if key.endswith(("_web", "_worker"))
    }


def main() -> None:
    server = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not server or not bootstrap:
        sys.exit("e2e_bench needs BENCH_POSTGRES_URL and KAFKA_BOOTSTRAP_SERVERS")
    clients = int(os.environ.get("E2E_CLIENTS", "8"))
    seconds = float(os.environ.get("E2E_SECONDS", "40" if quick() else "120"))
    most = int(os.environ.get("E2E_MAX_LIFECYCLES", "400" if quick() else "3000"))
    base = int(os.environ["E2E_PORT_BASE"]) if os.environ.get("E2E_PORT_BASE") else None
    prefix = f"e2ebench{uuid.uuid4().hex[:6]}."

    mail = IndexedMailServer(port=base + 7 if base else None)
    mail.start()
    run_dir = Path(tempfile.mkdtemp(prefix="e2e-bench-"))
    try:
        with databases(server) as urls:
            stack = DeployedStack.configure(run_dir / "run", bootstrap, prefix, mail.port, urls)
            if base:
                fixed_ports(stack, base)
            try:
                stack.start()
                figures = measure(stack, mail, clients, seconds, most)
            except BaseException:
                print(stack.log_tails(), file=sys.stderr)
                raise
            finally:
                print(stack.stop(), file=sys.stderr)
    finally:
        mail.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
        with contextlib.suppress(Exception):  # the topics go with the broker anyway
            delete_topics(bootstrap, prefix)
    merged = merge_results(figures)
    for key in sorted(figures):
        print(f"{key}: {merged[key]}")


if __name__ == "__main__":
    main()
