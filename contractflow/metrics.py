"""Prometheus metrics of the processes: what the database says at scrape time, and the
worker's own small HTTP endpoint (/metrics, /healthz, /readyz).

The web runs under gunicorn with several worker processes, each with its own counters;
prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by
contractflow/gunicorn_conf.py) adds them up, so any process answers for all of them.
The worker is one process and serves its registry as it is.

Backlogs (outbox, mail outbox, open human tasks, open incidents) are counted by the worker
only: they are facts of the service's database, the same whichever process reads them,
and one reader per scrape is enough.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def exposition(registry: CollectorRegistry) -> bytes:
    """The text a scrape gets: in multiprocess mode every gunicorn worker's counters."""
    if os.environ.get(MULTIPROC_VARIABLE):
        from prometheus_client import multiprocess

        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)
        return generate_latest(combined)
    return generate_latest(registry)


class BacklogCollector(Collector):
    """Gauges counted in the service's database when scraped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from contractflow.events.outbox import OutboxMessage
        from contractflow.mail.outbox import MailMessage
        from contractflow.workflow.models import HumanTaskRow, IncidentRow

        queries = {
            "outbox_backlog": (
                "Outbox rows not yet published",
                OutboxMessage,
                OutboxMessage.published_at.is_(None),
            ),
            "mail_backlog": ("Emails not yet sent", MailMessage, MailMessage.sent_at.is_(None)),
            "workflow_open_tasks": (
                "Human tasks open or claimed",
                HumanTaskRow,
                HumanTaskRow.status.in_(("open", "claimed")),
            ),
            "workflow_open_incidents": (
                "Workflow incidents not resolved",
                IncidentRow,
                IncidentRow.status == "open",
            ),
        }
        try:
            with self.engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
                for name, (documentation, model, open_rows) in queries.items():
                    if model.__tablename__ not in tables:
                        continue  # a service without that table (e.g. no mail)
                    count = conn.execute(
                        select(func.count()).select_from(model).where(open_rows)
                    ).scalar_one()
                    yield GaugeMetricFamily(name, documentation, value=count)
        except Exception:  # a scrape during a database outage still gets the counters
            log.warning("could not count the backlogs for /metrics", exc_info=True)


class WorkerEndpoint:
    """/metrics, /healthz and /readyz of a worker process on its own port."""

    def __init__(
        self,
        host: str,
        port: int,
        registries: list[CollectorRegistry],
        readiness: dict[str, Callable[[], bool]],
    ) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    text = b"".join(generate_latest(r) for r in registries)
                    self._answer(200, text, CONTENT_TYPE_LATEST)
                elif self.path == "/healthz":
                    self._answer(200, b'{"status": "ok"}', "application/json")
                elif self.path == "/readyz":
                    status, body = endpoint.readiness()
                    self._answer(status, body, "application/json")
                else:
                    self._answer(404, b'{"title": "Not Found"}', "application/problem+json")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # scrapes every few seconds would drown the worker's log

        self.checks = readiness
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="worker-metrics", daemon=True
        )

    def readiness(self) -> tuple[int, bytes]:
        results = {}
        for name, check in self.checks.items():
            try:
                results[name] = bool(check())
            except Exception:
                results[name] = False
        ready = all(results.values())
        body = {"status": "ready" if ready else "not ready", "checks": results}
        return (200 if ready else 503), json.dumps(body).encode()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
