"""Renewal's view of every contract, kept from `contract.signed`, `contract.amended` and
`contract.terminated`: term, notice and renewal rules, licence term, service standards,
maintenance schedule and owner. Every change re-plans the contract's deadlines.

An amendment or termination of a contract not signed here (yet) is held, never guessed:
it is applied when the contract's `contract.signed` arrives, and a held message nobody
claims goes to the dead-letter topic with the reason when its time to live runs out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.contracts import (
    ContractTerms,
    dump_contract_terms,
)
from contractflow.contracts.operations import Severity
from contractflow.contracts.signed_terms import signed_terms
from contractflow.events.schemas.change import ContractAmendedV1, ContractTerminatedV1
from contractflow.workflow import messages
from contractflow.workflow.models import HeldMessageRow
from services.renewal import deadlines, handover, payments
from services.renewal.models import ACTIVE, TERMINATED, WatchedContract
from services.renewal.settings import RenewalSettings

log = logging.getLogger(__name__)

AMENDED, TERMINATED_EVENT = "contract.amended.v1", "contract.terminated.v1"
HELD_SCHEMAS: dict[str, type[Schema]] = {
    AMENDED: ContractAmendedV1,
    TERMINATED_EVENT: ContractTerminatedV1,
}
HOLD_FOR = dt.timedelta(days=7)


class ContractNotWatched(LookupError):
    def __init__(self, contract_id: str) -> None:
        super().__init__(f"no signed contract {contract_id!r} is known to the renewal service")
        self.contract_id = contract_id


def get_contract(session: Session, contract_id: str, *, lock: bool = False) -> WatchedContract:
    contract = session.get(WatchedContract, contract_id, with_for_update=lock or None)
    if contract is None:
        raise ContractNotWatched(contract_id)
    return contract


def held_for(session: Session, contract_id: str, names: Collection[str]) -> set[str]:
    """Which of these kinds of message are held for the contract: one read, so that a
    contract with nothing held (nearly every one) is not asked about each kind in turn.
    Expired rows count too: the kind's own take then decides, as it always did."""
    return set(
        session.scalars(
            select(HeldMessageRow.message_name)
            .where(
                HeldMessageRow.correlation_key == contract_id,
                HeldMessageRow.message_name.in_(names),
            )
            .distinct()
        )
    )


def record_signed(
    session: Session,
    event_id: str,
    data: dict[str, Any],
    now: dt.datetime,
    settings: RenewalSettings,
    default_timezone: str,
    held_kinds: Collection[str] = HELD_SCHEMAS.keys(),
) -> WatchedContract:
    """Upsert from `contract.signed.v1`; then apply anything held for the contract
    (`held_kinds`: the kinds `held_for` found, when the caller asked it already)."""
    contract = session.get(WatchedContract, data["contract_id"])
    new_contract, open_milestones = contract is None, None
    if contract is None:
        contract = WatchedContract(contract_id=data["contract_id"], watched_since=now)
        contract.status, contract.amendments = ACTIVE, []
        session.add(contract)
    contract.title = data["title"]
    contract.provider_id = data["provider"]["id"]
    contract.provider_name = data["provider"]["name"]
    contract.signed_event_id = event_id
    contract.updated_at = now
    # A signed event delivered again after an amendment is older than the amendment.
    if not contract.amendments:
        contract.start_date, contract.end_date = data["start_date"], data["end_date"]
        contract.auto_renew = data["auto_renew"]
        contract.notice_period_days = data["notice_period_days"]
        contract.total_amount = Decimal(data["total"]["amount"])
        contract.currency = data["total"]["currency"]
        terms = _terms(event_id, data.get("terms"), default_timezone)
        _take_clauses(contract, terms, default_timezone)
        open_milestones = payments.take_schedule(
            session, contract, data["payment_schedule"], new_contract=new_contract
        )
    session.flush()
    deadlines.plan(
        session,
        contract,
        now,
        settings,
        new_contract=new_contract,
        open_milestones=open_milestones,
    )
    for event_type in [e for e in (AMENDED, TERMINATED_EVENT) if e in held_kinds]:
        while (
            held := messages.take_held(session, event_type, contract.contract_id, now)
        ) is not None:
            loaded = HELD_SCHEMAS[event_type]().load(held.payload)
            log.info(
                "applying held %s %s to contract %s",
                event_type,
                held.event_id,
                contract.contract_id,
            )
            if event_type == AMENDED:
                apply_amendment(
                    session, held.event_id, loaded, held.payload, now, settings, default_timezone
                )
            else:
                apply_termination(session, held.event_id, loaded, held.payload, now, settings)
    return contract


def apply_amendment(
    session: Session,
    event_id: str,
    data: dict[str, Any],
    raw: dict[str, Any],
    now: dt.datetime,
    settings: RenewalSettings,
    default_timezone: str,
) -> str:
    """The amendment's terms become the contract's; its end date moves every deadline.
    Answers applied, duplicate or held."""
    contract = session.get(WatchedContract, data["contract_id"])
    if contract is None:
        return _hold(session, AMENDED, data["contract_id"], raw, event_id, now)
    number = data["amendment_number"]
    if number in contract.amendments:
        return "duplicate"
    terms = _terms(event_id, data["terms"], default_timezone, "contract.amended")
    contract.amendments = [*contract.amendments, number]
    contract.total_amount = Decimal(data["total_after"]["amount"])
    contract.currency = data["total_after"]["currency"]
    if terms is not None and terms.service_term is not None:
        term = terms.service_term
        contract.start_date = term.start_date or contract.start_date
        contract.end_date = term.end_date or contract.end_date
        if term.auto_renew is not None:
            contract.auto_renew = term.auto_renew
        if term.notice_period_days is not None:
            contract.notice_period_days = term.notice_period_days
    _take_clauses(contract, terms, default_timezone)
    open_milestones = payments.take_schedule(session, contract, data["fee_schedule"])
    contract.updated_at = now
    session.flush()
    deadlines.plan(session, contract, now, settings, open_milestones=open_milestones)
    return "applied"


def apply_termination(
    session: Session,
    event_id: str,
    data: dict[str, Any],
    raw: dict[str, Any],
    now: dt.datetime,
    settings: RenewalSettings,
) -> str:
    """A terminated contract is watched no more: its pending deadlines are cancelled, but
    for the payments of the milestones due by the effective date, which are owed still
    (those due after it are cancelled)."""
    contract = session.get(WatchedContract, data["contract_id"])
    if contract is None:
        return _hold(session, TERMINATED_EVENT, data["contract_id"], raw, event_id, now)
    contract.status = TERMINATED
    contract.terminated_on = data["effective_date"]
    contract.termination_grounds = data["grounds"]
    contract.termination = {
        "request_id": raw["request_id"],
        "notice_given_on": raw["notice_given_on"],
        "settlement": raw["settlement"],
        "compensation": raw["compensation"],
    }
    contract.updated_at = now
    owed = payments.end_at_termination(session, contract)
    deadlines.plan(session, contract, now, settings, open_milestones=owed)
    # One handover for every end: the approval service's termination records the notice
    # and settlement; the data handover itself runs here, as for an expiry.
    handover.schedule(session, contract, now)
    return "applied"


def _hold(
    session: Session, event_type: str, contract_id: str, raw: dict, event_id: str, now: dt.datetime
) -> str:
    log.warning(
        "%s %s for contract %s, which is not signed here: held for %s",
        event_type,
        event_id,
        contract_id,
        HOLD_FOR,
    )
    messages.hold(session, event_type, contract_id, raw, event_id, now, HOLD_FOR)
    return "held"


def _terms(
    event_id: str, raw: dict[str, Any] | None, zone: str, event_type: str = "contract.signed"
) -> ContractTerms | None:
    """Invalid terms fail the event (retried, then dead-lettered) with the fields named,
    read as approval reads them (contractflow.contracts.signed_terms)."""
    return signed_terms(event_id, raw, default_timezone=zone, event_type=event_type)


def _take_clauses(contract: WatchedContract, terms: ContractTerms | None, zone: str) -> None:
    """The clauses renewal watches; events without terms keep the seed's defaults."""
    if terms is None:
        contract.timezone = contract.timezone or zone
        if not contract.maintenance_schedule:
            contract.maintenance_schedule = _schedule(ContractTerms())
        contract.service_standards = contract.service_standards or {}
        return
    contract.timezone = terms.timezone
    contract.terms = dump_contract_terms(terms)
    contract.maintenance_schedule = _schedule(terms)
    contract.service_standards = service_targets(terms)
    if terms.service_term is not None:
        contract.renewal_conditions = terms.service_term.renewal_conditions
    contract.licence_end_date = terms.licence.end_date if terms.licence else None
    user = terms.parties.user if terms.parties else None
    if user is not None and contract.owner_id is None:
        # The user's contact is the owner until someone names another (PUT .../owner).
        contract.owner_name = user.contact_name or contract.owner_name
        contract.owner_email = user.contact_email or contract.owner_email


def service_targets(terms: ContractTerms) -> dict[str, Any]:
    """The targets evaluation scores against, from the contract's own standards.

    Response time: the `high` severity's response minutes (the first listed when no
    `high` is stated). The terms state no fault-fix-rate target, so none is taken: the
    evaluation says so instead of inventing one."""
    standards = terms.service_standards
    if standards is None:
        return {}
    targets: dict[str, Any] = {}
    if standards.availability_target_percent is not None:
        targets["availability_percent"] = str(standards.availability_target_percent)
    high = standards.target_for(Severity.HIGH) or next(iter(standards.severity_targets), None)
    if high is not None:
        targets["response_minutes"] = high.response_minutes
    return targets


def _schedule(terms: ContractTerms) -> list[dict[str, Any]]:
    return [
        {"item": t.item, "content": t.content, "frequency": t.frequency.value}
        for t in terms.maintenance_schedule
    ]


def describe(session: Session, contract: WatchedContract, now: dt.datetime) -> dict[str, Any]:
    """The contract as the API shows it: days to expiry, objection deadline, next deadline."""
    today = deadlines.business_today(now, contract.timezone)
    return {
        **{c.key: getattr(contract, c.key) for c in WatchedContract.__mapper__.column_attrs},
        "days_to_expiry": (contract.end_date - today).days,
        "objection_deadline": deadlines.objection_deadline(contract),
        "next_deadline": deadlines.next_deadline(session, contract.contract_id),
    }
