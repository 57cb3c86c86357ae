"""Data schemas of every event type, grouped by the topic that carries them."""

from __future__ import annotations

from contractflow.events.catalogue import Catalogue
from contractflow.events.schemas import approval, contract, workflow


def default_catalogue() -> Catalogue:
    return Catalogue([*contract.EVENT_TYPES, *approval.EVENT_TYPES, *workflow.EVENT_TYPES])
