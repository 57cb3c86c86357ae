"""Renewal's composition root: the one place its parts are wired together."""

from __future__ import annotations

from contractflow.config import Settings
from contractflow.service import ServiceKernel, build_kernel
from services.renewal import api, handlers

SERVICE = "renewal"


def bootstrap(settings: Settings | None = None) -> ServiceKernel:
    kernel = build_kernel(settings or Settings.from_env(SERVICE))
    kernel.handlers.update(handlers.event_handlers())
    kernel.blueprints.append(api.make_blueprint(kernel.sessions))
    return kernel
