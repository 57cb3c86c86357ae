"""Data schemas of every event type, grouped by the topic that carries them."""

from __future__ import annotations

from contractflow.events.catalogue import Catalogue
from contractflow.events.schemas import (
    approval,
    change,
    contract,
    erp,
    payment,
    renewal,
    workflow,
)


def default_catalogue() -> Catalogue:
    return Catalogue(
        [
            *contract.EVENT_TYPES,
            *change.EVENT_TYPES,
            *approval.EVENT_TYPES,
            *erp.EVENT_TYPES,
            *renewal.EVENT_TYPES,
            *payment.EVENT_TYPES,
            *workflow.EVENT_TYPES,
        ]
    )
