"""Process entrypoints shared by the services: the gunicorn app and the worker main."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from contractflow.config import Settings
from contractflow.gc_tuning import tune_for_service
from contractflow.logging import configure_logging
from contractflow.service import ServiceKernel
from contractflow.web import create_service_app
from contractflow.worker import kafka_worker

Bootstrap = Callable[[Settings | None], ServiceKernel]


def web_app(bootstrap: Bootstrap, settings: Settings | None = None) -> Flask:
    kernel = bootstrap(settings)
    configure_logging(kernel.service, kernel.settings.log_level)
    app = create_service_app(kernel.web())
    tune_for_service()
    return app


def worker_main(bootstrap: Bootstrap) -> None:
    kernel = bootstrap(None)
    configure_logging(kernel.service, kernel.settings.log_level)
    worker = kafka_worker(kernel)
    tune_for_service()
    worker.run_until_signalled()
