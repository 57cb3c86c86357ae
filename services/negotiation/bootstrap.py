"""Negotiation's composition root: the one place its parts are wired together.

Pre-signing preparation (drafts, checks, the pre-signing workflow) is added here as it is
built; until then the service runs the shared plumbing: outbox relay, API operations.
"""

from __future__ import annotations

from contractflow.config import Settings
from contractflow.service import ServiceKernel, build_kernel

SERVICE = "negotiation"


def bootstrap(settings: Settings | None = None) -> ServiceKernel:
    return build_kernel(settings or Settings.from_env(SERVICE))
