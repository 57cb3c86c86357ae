"""Renewal's event handlers: each runs inside the consumer's transaction with the inbox row."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from contractflow.events.batching import EventHandler, batchable, find, prefetch_by_key, remember
from contractflow.events.envelope import CloudEvent
from services.renewal.models import WatchedContract


@batchable(prefetch=prefetch_by_key(WatchedContract, "contract_id", "contract_id"))
def watch_signed_contract(session: Session, event: CloudEvent, data: dict[str, Any]) -> None:
    """Start watching a newly signed contract's term so its expiry is never missed."""
    contract = find(session, WatchedContract, data["contract_id"])
    if contract is None:
        contract = WatchedContract(contract_id=data["contract_id"])
        session.add(contract)
        remember(session, WatchedContract, contract.contract_id, contract)
    contract.title = data["title"]
    contract.provider_id = data["provider"]["id"]
    contract.provider_name = data["provider"]["name"]
    contract.start_date = data["start_date"]
    contract.end_date = data["end_date"]
    contract.auto_renew = data["auto_renew"]
    contract.notice_period_days = data["notice_period_days"]
    contract.total_amount = data["total"]["amount"]
    contract.currency = data["total"]["currency"]
    contract.status = "active"
    contract.signed_event_id = event.id


def event_handlers() -> dict[str, EventHandler]:
    return {"contract.signed.v1": watch_signed_contract}
