"""The operator's view of real processes: gunicorn's several workers answer /metrics with
the counts of all of them, the worker serves its own counters and backlogs on its port, and
a web whose broker is unreachable stays ready (its database is all it needs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from contractflow.events.kafka_bus import ensure_topics
from services.negotiation.bootstrap import bootstrap as negotiation_bootstrap
from tests.conftest import service_settings
from tests.e2e.test_service_processes import REPO, Processes, free_port
from tests.integration.harness import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def env_of(settings, port: int, worker_port: int, kafka: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "DATABASE_URL": settings.database_url,
        "TOPIC_PREFIX": settings.topic_prefix,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "JWT_SECRET": settings.jwt_secret,
        "NEGOTIATION_PORT": str(port),
        "NEGOTIATION_WORKER_PORT": str(worker_port),
    }


def sample(text: str, name: str, **labels: str) -> float | None:
    """The sum of the samples of `name` whose labels include `labels`."""
    total, found = 0.0, False
    for line in text.splitlines():
        match = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})?\s+(\S+)", line)
        if match is None:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total, found = total + float(match.group(2)), True
    return total if found else None


def answers(url: str, status: int) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == status
    except requests.RequestException:
        return False


def test_metrics_of_both_processes_and_readiness_without_the_broker(
    kafka_bootstrap, tmp_path, topic_prefix
):
    settings = service_settings(
        "negotiation", f"sqlite:///{tmp_path / 'negotiation.sqlite3'}", topic_prefix
    )
    port, worker_port = free_port(), free_port()
    env = env_of(settings, port, worker_port, kafka_bootstrap)
    python = sys.executable
    subprocess.run(
        [python, "-m", "contractflow.cli", "migrate", "negotiation"], cwd=REPO, env=env, check=True
    )
    kernel = negotiation_bootstrap(settings)
    ensure_topics(kafka_bootstrap, kernel.all_topics(), partitions=3)
    kernel.close()
    processes = Processes(tmp_path)
    web = f"http://127.0.0.1:{port}"
    worker = f"http://127.0.0.1:{worker_port}"
    try:
        # The web is pointed at a broker that is not there.
        web_env = env | {"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
        gunicorn = [python, "-m", "gunicorn", "-c", "python:contractflow.gunicorn_conf"]
        app = "services.negotiation.app:create_app()"
        processes.start(
            "web",
            [*gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "3", "--threads", "2", app],
            web_env,
        )
        processes.start("worker", [python, "-m", "services.negotiation.worker"], env)
        wait_until(lambda: answers(f"{web}/healthz", 200), deadline_s=60, step_s=0.2)
        assert requests.get(f"{web}/readyz", timeout=10).json() == {
            "status": "ready",
            "checks": {"database": True},
        }, "a web without its broker keeps serving: the outbox holds its events"

        def healthz_count() -> float:
            text = requests.get(f"{web}/metrics", timeout=10).text
            return sample(text, "http_requests_total", endpoint="/healthz", status="200") or 0

        before = healthz_count()
        with ThreadPoolExecutor(12) as pool:  # spread over gunicorn's three workers
            list(pool.map(lambda _: requests.get(f"{web}/healthz", timeout=10), range(60)))
        # Whichever process answers a scrape counts the requests of all of them.
        assert [healthz_count() for _ in range(6)] == [before + 60] * 6

        wait_until(lambda: answers(f"{worker}/readyz", 200), deadline_s=60, step_s=0.2)
        ready = requests.get(f"{worker}/readyz", timeout=10).json()
        assert ready["checks"] == {"database": True, "kafka": True}
        text = requests.get(f"{worker}/metrics", timeout=10).text
        for name in (
            "outbox_backlog",
            "workflow_open_tasks",
            "workflow_open_incidents",
            "outbox_published_total",
            "dead_letters_total",
        ):
            assert sample(text, name) is not None, f"{name} missing from the worker's /metrics"
        assert "# TYPE events_consumed_total counter" in text
        assert "# TYPE consumer_lag gauge" in text
    except AssertionError:
        for name in list(processes.running):
            print(f"--- {name} ---\n{processes.tail(name)}")
        raise
    finally:
        processes.stop_all()
