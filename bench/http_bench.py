"""The trivial process over HTTP on PostgreSQL: gunicorn serving the workflow API, several
concurrent clients each running start -> find task -> complete, next to the same lifecycle
through the Python API in one process (the ceiling without HTTP).

Usage: python -m bench.http_bench   (env: BENCH_POSTGRES_URL, QUICK)
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from bench.processes import max_rss_mb
from bench.results import merge_results, quick
from contractflow.auth import TokenService
from contractflow.config import REPO_ROOT
from contractflow.db import make_engine, normalise_url
from contractflow.migrate import upgrade

TRIVIAL = REPO_ROOT / "tests" / "fixtures" / "bpmn" / "trivial.bpmn"
SECRET = "bench-secret-that-is-long-enough-for-hs256"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One keep-alive connection, as a browser or an integration keeps one.

    http.client rather than requests: the clients share this machine's two cores with the
    server, and requests spends several times more CPU per call than the call itself."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any], expect: int) -> Any:
        self.connection.request("POST", path, json.dumps(body), self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        if response.status != expect:
            raise RuntimeError(f"POST {path}: {response.status} {payload[:500]!r}")
        return json.loads(payload)

    def close(self) -> None:
        self.connection.close()


def lifecycle(client: Client) -> float:
    started = time.perf_counter()
    created = client.post("/workflow/instances", {"process_id": "trivial"}, 201)
    [task_id] = created["open_task_ids"]
    client.post(f"/workflow/tasks/{task_id}/complete", {"data": {"approved": True}}, 200)
    return time.perf_counter() - started


def drive(port: int, token: str, clients: int, seconds: float) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        connection = Client(port, token)
        try:
            lifecycle(connection)  # warm this client's connection
            mine = []
            while time.perf_counter() < deadline:
                mine.append(lifecycle(connection))
        finally:
            connection.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - started), sorted(latencies)


def main() -> None:
    admin_url = os.environ["BENCH_POSTGRES_URL"]
    name = f"bench_http_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    upgrade(engine, "negotiation")
    engine.dispose()
    workflows = Path(tempfile.mkdtemp(prefix="bench-workflows-"))
    shutil.copy(TRIVIAL, workflows / "trivial.bpmn")
    port = free_port()
    workers = os.cpu_count() or 2
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        "BENCH_WORKFLOWS_DIR": str(workflows),
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--no-control-socket",
            "bench.http_app:create_app()",
        ],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not come up")
            time.sleep(0.2)
        token = TokenService(SECRET, "contractflow").mint("bench", ["clerk"], dt.timedelta(hours=1))
        clients = 8
        rate, latencies = drive(port, token, clients, seconds=5 if quick() else 20)
        figures = {
            "http_postgres_lifecycles_per_s": round(rate, 1),
            "http_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
            "http_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
            "http_clients": clients,
            "http_gunicorn_workers": workers,
            "http_web_process_max_rss_mb": max_rss_mb([server.pid]),
        }
        merge_results(figures)
        for key, value in figures.items():
            print(f"{key:32} {value}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(workflows, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
