"""gunicorn settings every service's web uses: `gunicorn -c python:contractflow.gunicorn_conf`.

Metrics: each gunicorn worker is its own process with its own counters, so a scrape
answered by one of them would see a fraction that jumps between scrapes. Before any worker
starts, this points prometheus-client's multiprocess mode at a fresh folder of this
gunicorn's own; every worker writes its values there and /metrics adds them all up
(contractflow.metrics.exposition). A worker that exits is marked dead, so its live-only
values go while its counts stay.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus-client at import
_created: list[str] = []


def on_starting(server: Any) -> None:
    if not os.environ.get(MULTIPROC_VARIABLE):
        folder = tempfile.mkdtemp(prefix="contractflow-web-metrics-")
        _created.append(folder)
        os.environ[MULTIPROC_VARIABLE] = folder  # inherited by the workers forked next


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    for folder in _created:
        shutil.rmtree(folder, ignore_errors=True)
