"""The four webs as `make up` runs them, for the browser tests: `scripts/services.sh`
starts negotiation, approval, renewal (web + worker) and the admin editor (web) on ports,
a run folder and a topic prefix of the test's own. The tests reach the services only over
HTTP, as the browser and other systems do."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import requests
from kafka import KafkaProducer

from contractflow.auth import TokenService
from contractflow.events.envelope import CONTENT_TYPE, CloudEvent
from contractflow.events.schemas import default_catalogue

REPO = Path(__file__).resolve().parents[2]
SERVICES_SH = REPO / "scripts" / "services.sh"
SERVICES = ("negotiation", "approval", "renewal", "admin")
JWT_SECRET = "browser-test-jwt-secret-long-enough-for-hs256"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, probe: Callable[[], T], deadline_s: float = 30, step_s: float = 0.3) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` and the last value."""
    end = time.monotonic() + deadline_s
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= end:
            raise AssertionError(f"{what}: not reached within {deadline_s:.0f}s; last: {last!r}")
        time.sleep(step_s)


class Stack:
    def __init__(
        self, run_dir: Path, kafka_bootstrap: str, extra_env: dict[str, str] | None = None
    ) -> None:
        self.run_dir = run_dir
        self.ports = {svc: free_port() for svc in SERVICES}
        env = {k: v for k, v in os.environ.items() if "DATABASE_URL" not in k}
        env.update({f"{svc.upper()}_PORT": str(port) for svc, port in self.ports.items()})
        # Worker metrics ports, where services.sh gives workers one (<SERVICE>_WORKER_PORT).
        env.update({f"{svc.upper()}_WORKER_PORT": str(free_port()) for svc in SERVICES[:3]})
        env.update(
            {
                "SERVICES": " ".join(SERVICES),
                "CONTRACTFLOW_RUN_DIR": str(run_dir),
                "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "TOPIC_PREFIX": f"browser-{uuid.uuid4().hex[:8]}.",
                "TOPIC_PARTITIONS": "1",
                "JWT_SECRET": JWT_SECRET,
                "WEB_WORKERS": "1",
                "SERVICES_READY_TIMEOUT": "120",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(free_port()),  # nothing here sends mail; never reached
            }
        )
        env.update(extra_env or {})
        self.env = env
        self.tokens = TokenService(JWT_SECRET, "contractflow")
        self._producer: KafkaProducer | None = None

    def url(self, service: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def services_sh(self, command: str) -> None:
        done = subprocess.run(
            [str(SERVICES_SH), command],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"services.sh {command}:\n{done.stdout}\n{done.stderr}"

    def api(
        self,
        service: str,
        method: str,
        path: str,
        *roles: str,
        user: str = "browser-test",
        missing_ok: bool = False,
        **kwargs: Any,
    ) -> Any:
        """A service's API called as `user` with `roles` (workflow-admin by default);
        with `missing_ok`, a 404 is None (something the service has not made yet)."""
        jwt = self.tokens.mint(user, roles or ("workflow-admin",), dt.timedelta(hours=1))
        response = requests.request(
            method,
            self.url(service, path),
            headers={"Authorization": f"Bearer {jwt}"},
            timeout=30,
            **kwargs,
        )
        if missing_ok and response.status_code == 404:
            return None
        assert response.ok, f"{method} {path}: {response.status_code} {response.text[:1000]}"
        return response.json()

    def publish(self, event_type: str, data: dict[str, Any], key: str) -> None:
        """An event on the stack's Kafka topic, as another service's relay would send it."""
        event = CloudEvent(type=event_type, source="/browser-tests", subject=key, data=data)
        topic = self.env["TOPIC_PREFIX"] + default_catalogue().get(event_type).topic
        if self._producer is None:
            # One producer for the stack's life: its first metadata answer from a broker
            # shared by many test runs (thousands of topics) can take tens of seconds.
            self._producer = KafkaProducer(
                bootstrap_servers=self.env["KAFKA_BOOTSTRAP_SERVERS"], max_block_ms=180_000
            )
        headers = [("content-type", CONTENT_TYPE.encode())]
        sent = self._producer.send(topic, key=key.encode(), value=event.to_json(), headers=headers)
        sent.get(timeout=180)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
            self._producer = None
