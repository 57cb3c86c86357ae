"""What a lifecycle cannot cost less than on this machine, measured in the e2e bench's own
run so that its ratios hold on a shared, noisy machine.

Two pieces, each the least its part of a lifecycle does:
- an API call: the CPU seconds of one keep-alive `GET /healthz` (no database, no auth)
  through the same gunicorn web, client included — what any call costs before it does
  anything;
- a workflow: SpiffWorkflow alone, in memory, running the pre-signing-shaped process of
  the workflow bench (eight waits), once per service process a lifecycle runs (negotiation
  and approval) — what any workflow step costs before anything is durable.

floor = calls per lifecycle x call floor + 2 x workflow floor. It leaves out the database
and Kafka (PostgreSQL's own CPU is reported next to it) and every check the services make,
so it is a lower bound; `cores / floor` is the most any implementation on this stack could
reach here, and measured / floor says how far the services are from it.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from bench.e2e_stack import KeepAliveApi, cpu_seconds, service_pids
from contractflow.auth import TokenService
from tests.e2e.deployed import DeployedStack

CALLS_PER_CLIENT = 150


def floor_figures(
    stack: DeployedStack, clients: int, figures: dict[str, Any], levels: int
) -> dict[str, Any]:
    """The least a lifecycle costs here (see above), measured now, and what the CPU a
    lifecycle took would allow on this machine's cores if nothing else ran."""
    web = f"http://127.0.0.1:{stack.ports['negotiation']}"
    call = call_floor_cpu_s(web, stack.tokens, service_pids(stack)["negotiation"][0], clients)
    workflow = workflow_floor_cpu_s()
    calls = sum(
        figures[f"e2e_api_calls_per_lifecycle_{svc}"] for svc in ("negotiation", "approval")
    )
    calls += 2 * levels  # each level's link page: GET and POST
    least = calls * call + 2 * workflow
    cores = os.cpu_count() or 1
    return {
        "e2e_floor_call_cpu_ms": round(1000 * call, 3),
        "e2e_floor_workflow_cpu_ms": round(1000 * workflow, 3),
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


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system
