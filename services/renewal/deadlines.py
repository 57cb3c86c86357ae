"""A contract's deadlines as rows of renewal's own table: planned from its current end date
and notice period, claimed by the expiry watch when due, listed as a calendar.

Rows rather than workflow timers (bench/renewal_bench.py measures both): one partial index
on the pending rows' due time makes a tick read only what is due, and `FOR UPDATE SKIP
LOCKED` lets several workers share the due rows so each fires once.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from contractflow.contracts.fees.calendar import add_months
from contractflow.contracts.maintenance_periods import next_period, period_containing
from contractflow.contracts.operations import Frequency
from services.renewal import payments
from services.renewal.models import (
    ACTIVE,
    CANCELLED,
    PENDING,
    RUNNING,
    Deadline,
    WatchedContract,
)
from services.renewal.settings import RenewalSettings

EXPIRY, OBJECTION = "expiry", "objection"
MAINTENANCE, EVALUATION = "maintenance", "evaluation"
# decision: the owner is asked what happens at the end (a contract that does not renew
# itself), at the first expiry reminder; auto_extension: the day after the last day to
# object, the contract extends itself — or, objected to, asks for a decision.
DECISION, AUTO_EXTENSION = "decision", "auto_extension"
HANDOVER = "handover"  # started at once when a contract is let end or terminated
REMINDERS = (EXPIRY, OBJECTION)
ONE_OFF = (EXPIRY, OBJECTION, DECISION, AUTO_EXTENSION)
# A contract renewed by a renegotiation still runs (models.RUNNING): only the one-off
# deadlines about its end are moot.
AFTER = -1  # recurring checks are due the day after their period ends

Key = tuple[str, str, int, dt.date]  # kind, item, days before, deadline date


def business_today(now: dt.datetime, timezone: str) -> dt.date:
    return now.astimezone(ZoneInfo(timezone)).date()


def objection_deadline(contract: WatchedContract) -> dt.date | None:
    """The last day to object to an automatic renewal; None when it does not renew itself."""
    if not contract.auto_renew:
        return None
    return contract.end_date - dt.timedelta(days=contract.notice_period_days)


def reminders(contract: WatchedContract, settings: RenewalSettings) -> list[Key]:
    """Every reminder the contract's terms call for."""
    found = [(EXPIRY, "", days, contract.end_date) for days in settings.reminder_days]
    last_day = objection_deadline(contract)
    if last_day is not None:
        found += [(OBJECTION, "", days, last_day) for days in settings.objection_reminder_days]
        found.append((AUTO_EXTENSION, "", AFTER, last_day))
    elif contract.end_decision is None:
        found.append((DECISION, "", max(settings.reminder_days), contract.end_date))
    return found


def _still_worth_doing(key: Key, contract: WatchedContract, today: dt.date) -> bool:
    """A one-off deadline whose day passed unplanned (signed late, amended) is still due
    while what it is about lies ahead: a reminder its deadline, a decision the end."""
    kind, _item, _days, deadline_date = key
    if kind in REMINDERS:
        return deadline_date >= today
    return contract.end_date >= today


def recurring(
    contract: WatchedContract, settings: RenewalSettings, today: dt.date, fired: set[Key]
) -> list[Key]:
    """The next maintenance check of each scheduled item and the next evaluation: the
    period open today (or the first one, before the term starts), else the one after
    when today's has been checked already."""
    # From yesterday: a period that ended yesterday is checked today, re-planned or not.
    day = max(today - dt.timedelta(days=1), contract.start_date)
    found: list[Key] = []
    for entry in contract.maintenance_schedule:
        frequency = Frequency(entry["frequency"])
        period_end = period_containing(day, frequency)[1]
        if (MAINTENANCE, entry["item"], AFTER, period_end) in fired:
            period_end = next_period(period_end, frequency)[1]
        if period_containing(period_end, frequency)[0] <= contract.end_date:
            found.append((MAINTENANCE, entry["item"], AFTER, period_end))
    index = 1
    while True:
        period_end = add_months(contract.start_date, settings.evaluation_months * index)
        period_end = min(period_end - dt.timedelta(days=1), contract.end_date)
        key = (EVALUATION, "", AFTER, period_end)
        if period_end >= day and key not in fired:
            found.append(key)
            return found
        if period_end >= contract.end_date:
            return found
        index += 1


def plan(
    session: Session,
    contract: WatchedContract,
    now: dt.datetime,
    settings: RenewalSettings,
    *,
    new_contract: bool = False,
    open_milestones: list[dt.date] | None = None,
) -> int:
    """Re-plan from the contract as it now stands: pending rows for another end date,
    notice period or schedule are cancelled; fired rows stay fired (once per date).
    Answers how many deadlines are pending.

    Reminders whose day has already passed are not planned — except that when every
    reminder of a kind lies in the past but its deadline does not, one is due at once
    (a contract signed 20 days before its end still gets one expiry reminder).

    What the caller knows is not read back: `new_contract`, created in this transaction,
    has no rows yet; `open_milestones` are the dates `payments.take_schedule` answered."""
    existing = (
        {}
        if new_contract
        else {
            (d.kind, d.item, d.offset_days, d.deadline_date): d
            for d in session.scalars(
                select(Deadline).where(Deadline.contract_id == contract.contract_id)
            )
        }
    )
    fired = {key for key, row in existing.items() if row.status not in (PENDING, CANCELLED)}
    keep: set[Key] = set()
    today = business_today(now, contract.timezone)
    if contract.status == ACTIVE:
        zone = ZoneInfo(contract.timezone)
        for kind in ONE_OFF:
            of_kind = [k for k in reminders(contract, settings) if k[0] == kind]
            future = [k for k in of_kind if _due_at(k, zone, settings) > now]
            done = any(k[0] == kind and k[3] == of_kind[0][3] for k in fired) if of_kind else True
            if (
                of_kind
                and not future
                and not done
                and _still_worth_doing(of_kind[0], contract, today)
            ):
                deadline_date = of_kind[0][3]
                days = (deadline_date - today).days if kind in REMINDERS else of_kind[0][2]
                future = [(kind, "", days, deadline_date)]
            keep.update(future)
    if contract.status in RUNNING:
        keep.update(recurring(contract, settings, today, fired))
    # Whatever its status: what is owed stays owed (a termination cancelled the rest).
    grace = settings.payment_grace_days
    keep.update(payments.deadline_keys(session, contract, grace, open_milestones))
    for key, row in existing.items():
        if key not in keep and row.status == PENDING and row.kind != HANDOVER:
            row.status = CANCELLED
    zone = ZoneInfo(contract.timezone)
    new_rows = []
    for key in sorted(keep - fired, key=lambda k: (k[3] - dt.timedelta(days=k[2]), k)):
        kind, item, days, deadline_date = key
        due_on = deadline_date - dt.timedelta(days=days)
        # max: the late reminder is due now even when today's reminder hour has passed
        due_at = max(_due_at(key, zone, settings), now)
        found = existing.get(key)
        if found is None:
            new_rows.append(
                {
                    "contract_id": contract.contract_id,
                    "kind": kind,
                    "item": item,
                    "offset_days": days,
                    "deadline_date": deadline_date,
                    "due_on": due_on,
                    "due_at": due_at,
                    "status": PENDING,
                }
            )
        else:
            found.due_on, found.due_at, found.status = due_on, due_at, PENDING
    session.flush()
    if new_rows:
        # One executemany, no RETURNING: a signed contract plans dozens of rows, and as ORM
        # objects their unit of work and one long INSERT..RETURNING (too long for psycopg's
        # statement cache, parsed anew every time) cost more CPU than the rest of the event.
        session.execute(insert(Deadline), new_rows)
    return len(keep - fired)


def _due_at(key: Key, zone: ZoneInfo, settings: RenewalSettings) -> dt.datetime:
    _kind, _item, days, deadline_date = key
    due_on = deadline_date - dt.timedelta(days=days)
    local = dt.datetime.combine(due_on, dt.time(settings.reminder_hour), tzinfo=zone)
    return local.astimezone(dt.UTC)


def cancel_pending(
    session: Session, contract_id: str, kinds: tuple[str, ...] | None = None
) -> None:
    """Every pending deadline but the handover, or only those of `kinds`."""
    only = () if kinds is None else (Deadline.kind.in_(kinds),)
    session.execute(
        update(Deadline)
        .where(
            Deadline.contract_id == contract_id,
            Deadline.status == PENDING,
            Deadline.kind != HANDOVER,
            *only,
        )
        .values(status=CANCELLED)
        .execution_options(synchronize_session=False)
    )


def claim_due(session: Session, now: dt.datetime, limit: int) -> list[Deadline]:
    """Pending deadlines due by `now`, locked for this transaction; rows another worker
    holds are skipped (PostgreSQL), and SQLite's single writer serialises the rest."""
    return list(
        session.scalars(
            select(Deadline)
            .where(Deadline.status == PENDING, Deadline.due_at <= now)
            .order_by(Deadline.due_at, Deadline.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def upcoming(
    session: Session, first_day: dt.date, last_day: dt.date, limit: int, offset: int = 0
) -> dict[str, object]:
    """The calendar of the days between two dates (inclusive): how many pending and fired
    deadlines fall on them, by kind, and one page of them in due order, each with its
    contract's title. A busy day of a million contracts holds eleven thousand: the counts
    come from `ix_renewal_deadline_calendar` alone, and the page reads only its own rows."""
    on_days = (
        Deadline.due_on >= first_day,
        Deadline.due_on <= last_day,
        Deadline.status != CANCELLED,
    )
    by_kind = {
        kind: count
        for kind, count in session.execute(
            select(Deadline.kind, func.count()).where(*on_days).group_by(Deadline.kind)
        )
    }
    columns = [c for c in Deadline.__table__.columns]  # type: ignore[attr-defined]
    rows = session.execute(
        select(*columns, WatchedContract.title)
        .join(WatchedContract, WatchedContract.contract_id == Deadline.contract_id)
        .where(*on_days)
        .order_by(Deadline.due_on, Deadline.due_at, Deadline.id)
        .limit(limit)
        .offset(offset)
    )
    return {
        "total": sum(by_kind.values()),
        "by_kind": dict(sorted(by_kind.items())),
        "items": [dict(row) for row in rows.mappings()],
    }


def next_deadline(session: Session, contract_id: str) -> Deadline | None:
    return session.scalar(
        select(Deadline)
        .where(Deadline.contract_id == contract_id, Deadline.status == PENDING)
        .order_by(Deadline.due_at)
        .limit(1)
    )
