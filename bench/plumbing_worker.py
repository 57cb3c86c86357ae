"""The events bench's consumer: a worker process built like a service's (`worker_main`,
the kernel's relay, consumer and inbox) whose one handler does no business work, so the
bench measures the event plumbing and not what a service does with `contract.signed`
(renewal plans dozens of deadlines per contract; the e2e bench reports that per service).

Its handler is deliberately not `batchable`, as no service's is today, so each event is
one transaction (inbox check, inbox row, commit). Figures from before 080db18 (2,630
events/s) measured the batch path instead: renewal's handler was batchable then, and a
whole poll batch was one transaction (~0.1 ms of consumer CPU per event against ~0.8).

    python -m bench.plumbing_worker   (settings as the renewal service's: DATABASE_URL, ...)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from contractflow.config import Settings
from contractflow.entrypoints import Clock, worker_main
from contractflow.events.envelope import CloudEvent
from contractflow.service import ServiceKernel, build_kernel


def accept(session: Session, event: CloudEvent, data: dict[str, Any]) -> None:
    """Nothing beyond the inbox row the consumer writes in the same transaction."""


def bootstrap(settings: Settings | None = None, *, clock: Clock) -> ServiceKernel:
    kernel = build_kernel(settings or Settings.from_env("renewal"))
    kernel.handlers["contract.signed.v1"] = accept
    return kernel


if __name__ == "__main__":
    worker_main(bootstrap)
