"""Process entrypoints shared by the services: the gunicorn app and the worker main. Both
read the business clock once (`contractflow.clock`: the wall clock, or an accelerated one
in development) and hand it to the service's bootstrap."""

from __future__ import annotations

import os
import sys
from typing import Protocol

from flask import Flask

from contractflow.clock import Clock, clock_from_env
from contractflow.config import ConfigError, Settings
from contractflow.gc_tuning import tune_for_service
from contractflow.logging import configure_logging
from contractflow.service import ServiceKernel
from contractflow.web import create_service_app
from contractflow.worker import kafka_worker


class Bootstrap(Protocol):
    """A service's composition root, as the entrypoints call it."""

    def __call__(self, settings: Settings | None, *, clock: Clock) -> ServiceKernel: ...


def _built(bootstrap: Bootstrap, settings: Settings | None) -> ServiceKernel:
    try:
        return bootstrap(settings, clock=clock_from_env(os.environ))
    except ConfigError as exc:
        # A refused setting stops the process with the reason, not a traceback.
        print(f"contractflow: refusing to start: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def web_app(bootstrap: Bootstrap, settings: Settings | None = None) -> Flask:
    kernel = _built(bootstrap, settings)
    configure_logging(kernel.service, kernel.settings.log_level)
    app = create_service_app(kernel.web())
    tune_for_service()
    return app


def worker_main(bootstrap: Bootstrap) -> None:
    kernel = _built(bootstrap, None)
    configure_logging(kernel.service, kernel.settings.log_level)
    worker = kafka_worker(kernel)
    tune_for_service()
    worker.run_until_signalled()
