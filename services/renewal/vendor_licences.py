"""Providers' master data from the ERP (`erp.vendor.updated`), and the owner's task when
the provider's business licence ends while one of its contracts is still running
(DOMAIN.md §1: a licence valid and unexpired). Told once per contract and licence end date.

Running is `models.RUNNING` up to the end date: an active contract, an extended one to its
new end (checked again when it extends), and one closed as renewed by a renegotiation,
which still runs to its own end.

Updates are ordered by the ERP's `updated_at`: an older one arriving late is ignored, as is
the same one again; nothing is held (vendor data needs no contract to be stored).

A terminated contract ends on its effective date: a task about a licence valid until then
is withdrawn with the reason (`withdraw_at_termination`); one ending sooner stays open."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.contracts.vendor_master import keep_if_newer
from contractflow.workflow import WorkflowRuntime
from services.renewal.deadlines import business_today
from services.renewal.erp_records import LicenceAlert, VendorMaster
from services.renewal.mails import RenewalMails
from services.renewal.models import RUNNING, WatchedContract
from services.renewal.owner_tasks import open_task, withdraw_task

LICENCE_PROCESS = "provider_licence_expiring"


def remember_vendor(
    session: Session,
    runtime: WorkflowRuntime,
    data: dict[str, Any],
    now: dt.datetime,
    mails: RenewalMails,
) -> str:
    """Answers updated or stale (not newer than what is kept)."""
    vendor = keep_if_newer(session, VendorMaster, data)
    if vendor is None:
        return "stale"
    session.flush()
    # A day's margin for the contracts' own zones: check_contract decides on their day.
    contracts = session.scalars(
        select(WatchedContract).where(
            WatchedContract.provider_id == vendor.vendor_id,
            WatchedContract.status.in_(RUNNING),
            WatchedContract.end_date >= (now - dt.timedelta(days=1)).date(),
        )
    )
    for contract in contracts:
        check_contract(session, runtime, contract, now, mails, vendor)
    return "updated"


def check_contract(
    session: Session,
    runtime: WorkflowRuntime,
    contract: WatchedContract,
    now: dt.datetime,
    mails: RenewalMails,
    vendor: VendorMaster | None = None,
) -> LicenceAlert | None:
    """Open the owner's task if the provider's licence ends before the running contract
    does."""
    if not is_running(contract, now):
        return None
    vendor = vendor or session.get(VendorMaster, contract.provider_id)
    valid_until = vendor.licence_valid_until if vendor is not None else None
    if vendor is None or valid_until is None:
        return None  # no master data, or a licence without an end (长期)
    if valid_until >= contract.end_date:
        return None
    alert = session.scalar(
        select(LicenceAlert).where(
            LicenceAlert.contract_id == contract.contract_id,
            LicenceAlert.licence_valid_until == valid_until,
        )
    )
    if alert is not None:
        return None
    alert = LicenceAlert(
        contract_id=contract.contract_id,
        vendor_id=vendor.vendor_id,
        licence_valid_until=valid_until,
        opened_at=now,
    )
    session.add(alert)
    alert.task_id = open_task(
        session,
        runtime,
        LICENCE_PROCESS,
        contract,
        {
            "provider": vendor.name,
            "licence_number": vendor.licence_number,
            "licence_valid_until": valid_until.isoformat(),
            "end_date": contract.end_date.isoformat(),
        },
        now,
        mails=mails,
    )
    session.flush()
    return alert


def is_running(contract: WatchedContract, now: dt.datetime) -> bool:
    """Still running on the contract's business day: a running status, the end not past."""
    today = business_today(now, contract.timezone)
    return contract.status in RUNNING and contract.end_date >= today


def withdraw_at_termination(
    session: Session, runtime: WorkflowRuntime, contract: WatchedContract, because: str
) -> list[dt.date]:
    """The contract is terminated (`terminated_on` set, `because` says when): the tasks
    about a licence that outlasts its new end are withdrawn. Answers those licences' end
    dates."""
    ends_on = contract.terminated_on
    if ends_on is None:
        raise ValueError(f"contract {contract.contract_id} is not terminated")
    alerts = session.scalars(
        select(LicenceAlert)
        .where(
            LicenceAlert.contract_id == contract.contract_id,
            LicenceAlert.task_id.is_not(None),
            LicenceAlert.licence_valid_until >= ends_on,
        )
        .order_by(LicenceAlert.licence_valid_until)
    )
    return [
        alert.licence_valid_until
        for alert in alerts
        if withdraw_task(
            session,
            runtime,
            alert.task_id,
            f"{because}: the provider's licence, valid until "
            f"{alert.licence_valid_until.isoformat()}, outlasts the contract",
        )
    ]
