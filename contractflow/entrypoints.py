"""Process entrypoints shared by the services: the gunicorn app and the worker main."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from contractflow.config import Settings
from contractflow.logging import configure_logging
from contractflow.service import ServiceKernel
from contractflow.web import create_service_app
from contractflow.worker import kafka_worker

Bootstrap = Callable[[Settings | None], ServiceKernel]


def web_app(bootstrap: Bootstrap, settings: Settings | None = None) -> Flask:
    kernel = bootstrap(settings)
    configure_logging(kernel.service, kernel.settings.log_level)
    return create_service_app(kernel.web())


def worker_main(bootstrap: Bootstrap) -> None:
    kernel = bootstrap(None)
    configure_logging(kernel.service, kernel.settings.log_level)
    kafka_worker(kernel).run_until_signalled()
