"""What the end-to-end bench needs around the deployed services: a mail server that files
each decision link by task id, a keep-alive API client that tallies its calls, CPU seconds
from /proc, the bench's own databases and topics, and the event hops read back from the
services' outbox and inbox tables."""

from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import requests
from sqlalchemy import create_engine, text

from bench.processes import tree_cpu_seconds
from contractflow.db import normalise_url
from tests.e2e.deployed import SERVICES, Api, DeployedStack
from tests.e2e.mail_links import MailServer, approval_links, browser_like_session, task_of


class IndexedMailServer(MailServer):
    """A MailServer that also files each decision link by its task id as the mail arrives,
    so a client waits on its own task's link instead of scanning every mail received."""

    def __init__(self, port: int | None = None) -> None:
        super().__init__()
        if port is not None:
            from aiosmtpd.controller import Controller

            self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.links: dict[str, str] = {}
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        with self._lock:
            message = self.messages[-1]
        found = {task_of(link): link for link in approval_links(message)}
        with self._arrived:
            self.links.update(found)
            self._arrived.notify_all()
        return answer

    def link(self, task_id: str, deadline_s: float = 60) -> str:
        with self._arrived:
            if not self._arrived.wait_for(lambda: task_id in self.links, deadline_s):
                raise AssertionError(f"no mail with the link of task {task_id} in {deadline_s}s")
            return self.links[task_id]


def route(method: str, path: str) -> str:
    """`GET /contracts/<id>/tasks` for `GET /contracts/C-12ab/tasks?x=1`: ids are the
    segments with a digit in them."""
    parts = path.split("?", 1)[0].split("/")
    return method + " " + "/".join("<id>" if any(c.isdigit() for c in p) else p for p in parts)


class KeepAliveApi(Api):
    """Api with one keep-alive session per thread: the clients share the two cores with the
    services, and a new connection and session per call costs more than the call."""

    _local = threading.local()
    _lock = threading.Lock()
    # (port, "METHOD /route/<id>"): [calls, seconds]
    calls: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0, 0.0])

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = browser_like_session()
        began = time.monotonic()
        try:
            return session.request(
                method, self.base_url + path, headers=self.headers, timeout=30, **kwargs
            )
        finally:
            took = time.monotonic() - began
            with self._lock:
                tally = self.calls[(int(self.base_url.rsplit(":", 1)[1]), route(method, path))]
                tally[0] += 1
                tally[1] += took


# -- processes, databases, topics -----------------------------------------------------------
def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes and their children (gunicorn's workers)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += tree_cpu_seconds(pid)
    return total


def service_pids(stack: DeployedStack) -> dict[str, list[int]]:
    pids = {}
    for svc in SERVICES:
        files = [stack.run_dir / "pids" / f"{svc}-{kind}.pid" for kind in ("web", "worker")]
        pids[svc] = [int(f.read_text().strip()) for f in files]
    return pids


def backend_pids(server: str, names: list[str]) -> dict[int, str]:
    """PostgreSQL backends connected to these databases: pid -> database."""
    engine = create_engine(normalise_url(server))
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY(:names)"),
            {"names": names},
        ).all()
    engine.dispose()
    return {pid: name for pid, name in rows}


@contextlib.contextmanager
def databases(server: str) -> Iterator[dict[str, str]]:
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    tag = uuid.uuid4().hex[:8]
    names = {svc: f"e2e_bench_{tag}_{svc}" for svc in SERVICES}
    try:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield {svc: server.rsplit("/", 1)[0] + "/" + name for svc, name in names.items()}
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def delete_topics(bootstrap: str, prefix: str) -> None:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="e2e-bench-cleanup")
    try:
        mine = [t for t in admin.list_topics() if t.startswith(prefix)]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()


def fixed_ports(stack: DeployedStack, base: int) -> None:
    for i, svc in enumerate(SERVICES):
        stack.env[f"{svc.upper()}_PORT"] = str(base + 1 + i)
        stack.env[f"{svc.upper()}_WORKER_PORT"] = str(base + 4 + i)
    stack.env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{base + 2}"
    stack.env["NEGOTIATION_PUBLIC_URL"] = f"http://127.0.0.1:{base + 1}"
    stack.ports = {svc: int(stack.env[f"{svc.upper()}_PORT"]) for svc in SERVICES}


# -- hops -----------------------------------------------------------------------------------
def hops(urls: dict[str, str], since: Any) -> list[tuple[str, float]]:
    """(event type, ms) from each outbox row written since `since` to each inbox of another
    service that processed it."""
    outbox: dict[str, tuple[str, str, Any]] = {}
    inbox: list[tuple[str, str, Any]] = []
    for svc, url in urls.items():
        engine = create_engine(normalise_url(url))
        with engine.connect() as conn:
            for event_id, event_type, created in conn.execute(
                text("SELECT event_id, event_type, created_at FROM outbox WHERE created_at >= :s"),
                {"s": since},
            ):
                outbox[event_id] = (svc, event_type, created)
            inbox += [
                (svc, e, p)
                for e, p in conn.execute(text("SELECT event_id, processed_at FROM inbox"))
            ]
        engine.dispose()
    found = []
    for svc, event_id, processed in inbox:
        origin = outbox.get(event_id)
        if origin and origin[0] != svc:
            found.append((origin[1], (processed - origin[2]).total_seconds() * 1000))
    return found


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return round(values[0], 1) if values else float("nan")
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 1)


class Meter:
    """CPU seconds of each service's processes and of its PostgreSQL backends, and the
    clients' own, from before the run to after it."""

    def __init__(self, stack: DeployedStack) -> None:
        self.pids = service_pids(stack)
        urls = {svc: stack.env[f"{svc.upper()}_DATABASE_URL"] for svc in SERVICES}
        self.databases = {url.rsplit("/", 1)[1]: svc for svc, url in urls.items()}
        self.server = urls["negotiation"].rsplit("/", 1)[0] + "/postgres"

    def start(self) -> None:
        self.processes = {
            (svc, kind): cpu_seconds([pid])
            for svc, pids in self.pids.items()
            for kind, pid in zip(("web", "worker"), pids, strict=True)
        }
        backends = backend_pids(self.server, list(self.databases))
        self.backends = {pid: cpu_seconds([pid]) for pid in backends}
        self.client = os.times()

    def used(self) -> dict[str, float]:
        """CPU seconds since start: each service (`<svc>`, `<svc>_web` with its gunicorn
        workers, `<svc>_worker`), `postgres_<svc>` (its backends; one that ended within the
        run is not seen, so a lower bound) and `client`."""
        client = os.times()
        used: dict[str, float] = {}
        for (svc, kind), before in self.processes.items():
            pid = self.pids[svc][0 if kind == "web" else 1]
            used[f"{svc}_{kind}"] = spent = cpu_seconds([pid]) - before
            used[svc] = used.get(svc, 0.0) + spent
        for pid, name in backend_pids(self.server, list(self.databases)).items():
            key = f"postgres_{self.databases[name]}"
            used[key] = used.get(key, 0.0) + cpu_seconds([pid]) - self.backends.get(pid, 0.0)
        used["client"] = client.user + client.system - self.client.user - self.client.system
        return used


def database_now(url: str) -> Any:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        now = conn.execute(text("SELECT now()")).scalar_one()
    engine.dispose()
    return now
