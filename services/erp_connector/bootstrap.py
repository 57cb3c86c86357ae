"""The ERP connector's composition root: the kernel (database, outbox, inbox, Kafka) plus
its ledger handlers. It has a worker and no web: an ERP talks to contractflow by events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from contractflow.config import Settings
from contractflow.db import utcnow
from contractflow.service import ServiceKernel, build_kernel
from services.erp_connector import handlers
from services.erp_connector.settings import ErpConnectorSettings

SERVICE = "erp_connector"


def bootstrap(
    settings: Settings | None = None,
    *,
    connector_settings: ErpConnectorSettings | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> ServiceKernel:
    kernel = build_kernel(settings or Settings.from_env(SERVICE))
    config = connector_settings or ErpConnectorSettings.from_env()
    kernel.handlers.update(handlers.event_handlers(kernel.outbox, config, clock))
    kernel.extensions["erp_connector.settings"] = config
    return kernel
