"""Providers' master data from the ERP (`erp.vendor.updated`), and the owner's task when
the provider's business licence ends while one of its contracts is still running
(DOMAIN.md §1: a licence valid and unexpired). Told once per contract and licence end date.

Updates are ordered by the ERP's `updated_at`: an older one arriving late is ignored, as is
the same one again; nothing is held (vendor data needs no contract to be stored)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.contracts.vendor_master import keep_if_newer
from contractflow.workflow import WorkflowRuntime
from services.renewal.erp_records import LicenceAlert, VendorMaster
from services.renewal.models import ACTIVE, WatchedContract
from services.renewal.owner_tasks import open_task

LICENCE_PROCESS = "provider_licence_expiring"


def remember_vendor(
    session: Session, runtime: WorkflowRuntime, data: dict[str, Any], now: dt.datetime
) -> str:
    """Answers updated or stale (not newer than what is kept)."""
    vendor = keep_if_newer(session, VendorMaster, data)
    if vendor is None:
        return "stale"
    session.flush()
    contracts = session.scalars(
        select(WatchedContract).where(
            WatchedContract.provider_id == vendor.vendor_id, WatchedContract.status == ACTIVE
        )
    )
    for contract in contracts:
        check_contract(session, runtime, contract, now, vendor)
    return "updated"


def check_contract(
    session: Session,
    runtime: WorkflowRuntime,
    contract: WatchedContract,
    now: dt.datetime,
    vendor: VendorMaster | None = None,
) -> LicenceAlert | None:
    """Open the owner's task if the provider's licence ends before the contract does."""
    vendor = vendor or session.get(VendorMaster, contract.provider_id)
    valid_until = vendor.licence_valid_until if vendor is not None else None
    if vendor is None or valid_until is None or contract.status != ACTIVE:
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
    )
    session.flush()
    return alert
