"""The real processes as `make up` runs them — gunicorn web and worker per service — on
their own databases and real Kafka: a contract signed in negotiation is watched by renewal,
even across a worker killed with SIGKILL mid-stream."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from contractflow.auth import TokenService
from contractflow.events.kafka_bus import ensure_topics
from tests.conftest import both_databases
from tests.integration.harness import KafkaBus, ServicePair, signed_event, wait_until

pytestmark = [both_databases, pytest.mark.kafka, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy
            process = subprocess.Popen(
                argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.running[name] = process
        return process

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.running.values():
            process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def tail(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]


def service_env(settings, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "TOPIC_PREFIX": settings.topic_prefix,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "JWT_SECRET": settings.jwt_secret,
        f"{settings.service.upper()}_PORT": str(port),
        "CONSUMER_BACKOFF_MS": "10",
        "CONSUMER_SESSION_TIMEOUT_MS": "6000",
    }


def test_signed_contract_reaches_renewal_through_real_processes_despite_a_killed_worker(
    kafka_bootstrap, database_factory, topic_prefix, tmp_path
):
    services = ServicePair(KafkaBus(kafka_bootstrap), database_factory, topic_prefix)
    ensure_topics(kafka_bootstrap, services.renewal.all_topics(), partitions=3)
    processes = Processes(tmp_path)
    port = free_port()
    renewal_env = service_env(services.renewal.settings, port)
    negotiation_env = service_env(services.negotiation.settings, free_port())
    python = sys.executable
    try:
        processes.start(
            "negotiation-worker", [python, "-m", "services.negotiation.worker"], negotiation_env
        )
        processes.start("renewal-worker", [python, "-m", "services.renewal.worker"], renewal_env)
        processes.start(
            "renewal-web",
            [
                python,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "services.renewal.app:create_app()",
            ],
            renewal_env,
        )
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _ready(base), deadline_s=60, step_s=0.3)

        first = [signed_event() for _ in range(20)]
        services.write(*first)
        token = TokenService(services.renewal.settings.jwt_secret, "contractflow").mint(
            "carol", ["renewal-manager"], dt.timedelta(minutes=10)
        )
        headers = {"Authorization": f"Bearer {token}"}
        wait_until(lambda: len(_watched(base, headers)) == 20, deadline_s=90, step_s=0.3)

        processes.kill("renewal-worker")
        second = [signed_event() for _ in range(20)]
        services.write(*second)
        time.sleep(1)  # the relay publishes while nobody consumes
        processes.start("renewal-worker-2", [python, "-m", "services.renewal.worker"], renewal_env)

        wait_until(lambda: len(_watched(base, headers)) == 40, deadline_s=120, step_s=0.5)
        watched = _watched(base, headers)
        assert {c["contract_id"] for c in watched} == {e.subject for e in first + second}
        one = requests.get(f"{base}/contracts/{first[0].subject}", headers=headers, timeout=5)
        assert one.json()["provider_name"] == "云杉软件服务有限公司"
        assert one.json()["total_amount"] == "120000.00"
    except AssertionError:
        for name in list(processes.running):
            print(f"--- {name} ---\n{processes.tail(name)}")
        raise
    finally:
        processes.stop_all()
        services.close()


def _ready(base: str) -> bool:
    try:
        return requests.get(f"{base}/readyz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _watched(base: str, headers: dict[str, str]) -> list[dict]:
    response = requests.get(f"{base}/contracts?limit=1000", headers=headers, timeout=5)
    response.raise_for_status()
    return response.json()["items"]
