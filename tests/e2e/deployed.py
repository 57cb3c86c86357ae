"""The three services as `make up` deploys them, for end-to-end tests: `scripts/services.sh`
starts each service's gunicorn web and worker process on ports, a run folder, a topic prefix,
databases and SMTP settings of the test's own, all given as environment variables.

Nothing here reaches into a service: the test talks to them over HTTP (`Api`) and reads
what they published from Kafka (`events`), as another system would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from contractflow.auth import TokenService
from contractflow.demo.stack import Api  # one HTTP client for these tests, the bench, the demo
from contractflow.events.envelope import CloudEvent
from contractflow.events.schemas import default_catalogue
from contractflow.events.topic_reader import read_topic

REPO = Path(__file__).resolve().parents[2]
SERVICES_SH = REPO / "scripts" / "services.sh"
# The services a contract's life runs through, each a web and a worker. services.sh also
# starts admin (the workflow editor, a web only) by default; nothing here goes through it.
SERVICES = ("negotiation", "approval", "renewal")
JWT_SECRET = "e2e-jwt-secret-that-is-long-enough-for-hs256"
T = TypeVar("T")
PROBLEM_MARKS = ('"level": "WARNING"', '"level": "ERROR"', "Traceback", "[ERROR]", "WARNING")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, probe: Callable[[], T], deadline_s: float = 60, step_s: float = 0.3) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` and the last value."""
    end = time.monotonic() + deadline_s
    last: Any = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= end:
            raise AssertionError(
                f"{what}: not reached within {deadline_s:.0f}s; last seen: {last!r}"
            )
        time.sleep(step_s)


class DeployedStack:
    """The services started and stopped by `scripts/services.sh`, with the test's settings."""

    def __init__(self, run_dir: Path, env: dict[str, str]) -> None:
        self.run_dir = run_dir
        self.env = env
        self.ports = {svc: int(env[f"{svc.upper()}_PORT"]) for svc in SERVICES}
        self.tokens = TokenService(env["JWT_SECRET"], "contractflow")
        self.catalogue = default_catalogue()

    @classmethod
    def configure(
        cls,
        run_dir: Path,
        kafka_bootstrap: str,
        topic_prefix: str,
        smtp_port: int,
        database_urls: dict[str, str] | None,
    ) -> DeployedStack:
        """Settings of the test's own; without `database_urls` every service keeps its data
        in SQLite under the run folder, as `make up` does."""
        env = {
            k: v for k, v in os.environ.items() if k != "DATABASE_URL" and "_DATABASE_URL" not in k
        }
        ports = {f"{svc.upper()}_PORT": str(free_port()) for svc in SERVICES}
        ports.update({f"{svc.upper()}_WORKER_PORT": str(free_port()) for svc in SERVICES})
        env.update(ports)
        env.update(
            {
                "CONTRACTFLOW_RUN_DIR": str(run_dir),
                # The three services only: the admin editor has its own browser tests.
                "SERVICES": " ".join(SERVICES),
                "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "TOPIC_PREFIX": topic_prefix,
                "TOPIC_PARTITIONS": "3",
                "JWT_SECRET": JWT_SECRET,
                "LINK_SECRET": "e2e-link-secret",
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['APPROVAL_PORT']}",
                "NEGOTIATION_PUBLIC_URL": f"http://127.0.0.1:{ports['NEGOTIATION_PORT']}",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp_port),
                "SMTP_SECURITY": "none",
                "MAIL_FROM": "contractflow@corp.test",
                # A worker killed with SIGKILL keeps its partitions this long: short, so the
                # restarted one takes over within the test's deadlines.
                "CONSUMER_SESSION_TIMEOUT_MS": "6000",
                "CONSUMER_BACKOFF_MS": "50",
                "SERVICES_READY_TIMEOUT": "120",  # 2 shared cores: start-up can be slow
            }
        )
        for svc, url in (database_urls or {}).items():
            env[f"{svc.upper()}_DATABASE_URL"] = url
        return cls(run_dir, env)

    # -- processes ------------------------------------------------------------------------
    def services_sh(self, command: str, *only: str) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **({"SERVICES": " ".join(only)} if only else {})}
        return subprocess.run(
            [str(SERVICES_SH), command],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def start(self, *only: str) -> None:
        began = time.monotonic()
        done = self.services_sh("start", *only)
        print(f"[e2e] services.sh start {' '.join(only)}: {time.monotonic() - began:.1f}s")
        print(done.stdout)
        assert done.returncode == 0, (
            f"scripts/services.sh start failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )

    def stop(self) -> str:
        began = time.monotonic()
        done = self.services_sh("stop")
        print(f"[e2e] services.sh stop: {time.monotonic() - began:.1f}s")
        return done.stdout + done.stderr

    def worker_pid(self, service: str) -> int:
        return int((self.run_dir / "pids" / f"{service}-worker.pid").read_text().strip())

    def kill_worker(self, service: str, sig: signal.Signals) -> int:
        """Signal the service's worker process and wait until it is gone; returns its pid."""
        pid = self.worker_pid(service)
        os.kill(pid, sig)
        wait_for(f"{service} worker (pid {pid}) ended by {sig.name}", lambda: not _running(pid))
        return pid

    # -- what a user sees -----------------------------------------------------------------
    def api(self, service: str, user: str, *roles: str) -> Api:
        return Api(f"http://127.0.0.1:{self.ports[service]}", self.tokens, user, *roles)

    def events(self, event_type: str, **match: Any) -> list[dict[str, Any]]:
        """The data of every `event_type` event on its Kafka topic that matches `match`."""
        topic = self.env["TOPIC_PREFIX"] + self.catalogue.get(event_type).topic
        found = []
        for record in read_topic(self.env["KAFKA_BOOTSTRAP_SERVERS"], topic):
            event = CloudEvent.from_json(record.value)
            if event.type == event_type and all(event.data.get(k) == v for k, v in match.items()):
                found.append(event.data)
        return found

    def trace_ids(self, contract_id: str) -> dict[str, set[str]]:
        """Event type -> the trace ids of that contract's events, on every topic."""
        found: dict[str, set[str]] = {}
        for topic in sorted(self.catalogue.topics()):
            for record in read_topic(
                self.env["KAFKA_BOOTSTRAP_SERVERS"], self.env["TOPIC_PREFIX"] + topic
            ):
                event = CloudEvent.from_json(record.value)
                if event.subject == contract_id and event.trace_id:
                    found.setdefault(event.type, set()).add(event.trace_id)
        return found

    def log_tails(self, lines: int = 30, width: int = 400) -> str:
        """For a failure report: each process's warnings and errors, then its last lines
        (each cut to `width`: a workflow step logs its whole data)."""
        parts = []
        for log in sorted((self.run_dir / "logs").glob("*.log")):
            text = log.read_text(errors="replace").splitlines()
            problems = [ln for ln in text if any(w in ln for w in PROBLEM_MARKS)][-lines:]
            tail = text[-lines:]
            parts.append(
                f"----- {log.name}: warnings and errors -----\n"
                + "\n".join(ln[:width] for ln in problems)
                + f"\n----- {log.name}: last {len(tail)} lines -----\n"
                + "\n".join(ln[:width] for ln in tail)
            )
        return "\n".join(parts)


def _running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a detached process is re-parented to
    PID 1, which may take a while to reap it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
