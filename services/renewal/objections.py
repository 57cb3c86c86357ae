"""Objections to an automatic renewal: recorded only while the contract still renews
itself and its last day to object has not passed (in the contract's time zone)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from services.renewal import deadlines
from services.renewal.contract_view import get_contract
from services.renewal.models import ACTIVE, WatchedContract


class ObjectionRefused(ValueError):
    """The objection cannot be recorded; the message says why."""


def record_objection(
    session: Session, contract_id: str, *, by: str, reason: str, now: dt.datetime
) -> WatchedContract:
    contract = get_contract(session, contract_id, lock=True)
    if contract.status != ACTIVE:
        raise ObjectionRefused(f"contract {contract_id} is {contract.status}")
    last_day = deadlines.objection_deadline(contract)
    if last_day is None:
        raise ObjectionRefused(f"contract {contract_id} does not renew automatically")
    today = deadlines.business_today(now, contract.timezone)
    if today > last_day:
        raise ObjectionRefused(
            f"the last day to object to contract {contract_id}'s renewal was {last_day}"
        )
    if contract.objected_at is None:  # the first objection counts; later ones change nothing
        contract.objected_at, contract.objected_by = now, by
        contract.objection_reason = reason
        contract.updated_at = now
    return contract


def set_owner(
    session: Session, contract_id: str, owner: dict[str, str | None], now: dt.datetime
) -> WatchedContract:
    """Name the person who receives the contract's reminders and tasks."""
    contract = get_contract(session, contract_id, lock=True)
    contract.owner_id = owner["owner_id"]
    contract.owner_name = owner.get("name") or contract.owner_name
    contract.owner_email = owner.get("email") or contract.owner_email
    contract.owner_language = owner.get("language") or contract.owner_language
    contract.updated_at = now
    return contract
