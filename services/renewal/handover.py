"""One handover for every end of a contract — after "let it end" and after an approved
termination (`contract.terminated`): a `handover` deadline due at once, which the expiry
watch turns into a `handover` workflow instance; its end publishes
`contract.handover.completed` and `contract.expired`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import Outbox
from contractflow.workflow import WorkflowRuntime
from services.renewal.models import EXPIRED, PENDING, TERMINATED, Deadline, WatchedContract

HANDOVER = "handover"
HANDOVER_PROCESS = "handover"


def schedule(session: Session, contract: WatchedContract, now: dt.datetime) -> None:
    """Due at once, once per contract and end date."""
    exists = session.scalar(
        select(Deadline.id).where(
            Deadline.contract_id == contract.contract_id,
            Deadline.kind == HANDOVER,
            Deadline.deadline_date == contract.end_date,
        )
    )
    if exists is not None:
        return
    row = Deadline(contract_id=contract.contract_id, kind=HANDOVER, item="", offset_days=0)
    row.deadline_date, row.due_on, row.due_at, row.status = (
        contract.end_date,
        now.date(),
        now,
        PENDING,
    )
    session.add(row)


def start(
    session: Session, runtime: WorkflowRuntime, contract: WatchedContract, now: dt.datetime
) -> str:
    reason = "termination" if contract.status == TERMINATED else "expiry"
    variables: dict[str, Any] = {"handover_reason": reason, "title": contract.title}
    if reason == "termination":
        variables.update(_settled_by_termination(contract))
    live = runtime.start(
        session,
        HANDOVER_PROCESS,
        contract_id=contract.contract_id,
        variables=variables,
        started_by="renewal-watch",
        channel="timer",
        now=now,
    )
    return live.id


def _settled_by_termination(contract: WatchedContract) -> dict[str, Any]:
    """The notice and fee settlement the approval service's termination workflow recorded
    (`contract.terminated`), as the variables the handover's own notice and settlement
    tasks would have set: one handover, nothing asked twice."""
    facts = contract.termination
    if facts is None:
        raise ValueError(
            f"contract {contract.contract_id} is terminated but its contract.terminated "
            "facts (notice, settlement) were not kept"
        )
    settlement = facts["settlement"]
    return {
        "notice_sent_on": facts["notice_given_on"],
        "notice_reference": facts["request_id"],
        "payer": settlement["payer"],
        "settlement_amount": settlement["amount"],
        "settlement_note": settlement.get("note", ""),
    }


def request_new_provider(
    session: Session, contract: WatchedContract, by: str, outbox: Outbox
) -> dict[str, Any]:
    tender_id = f"TD-{uuid.uuid4().hex[:12]}"
    _publish(
        outbox,
        session,
        "tender.requested.v1",
        contract,
        {
            "tender_id": tender_id,
            "kind": "new_provider",
            "requested_by": by,
            "reason": f"handover of {contract.contract_id}: a new provider is needed",
            "current_terms": contract.terms,
            "needed_from": (_ends_on(contract) + dt.timedelta(days=1)).isoformat(),
        },
    )
    return {"tender_id": tender_id}


def complete(
    session: Session,
    contract: WatchedContract,
    v: dict[str, Any],
    by: str,
    now: dt.datetime,
    outbox: Outbox,
) -> dict[str, Any]:
    reason = v["handover_reason"]
    _publish(
        outbox,
        session,
        "contract.handover.completed.v1",
        contract,
        {
            "reason": reason,
            "notice_sent_on": v["notice_sent_on"],
            "data_export": {
                "record_count": v["record_count"],
                "sha256": v["sha256"],
                "confirmed_by": by,
            },
            "checklist": {
                "documents_returned": v["documents_returned"],
                "credentials_revoked": v["credentials_revoked"],
                "software_deactivated": v["software_deactivated"],
                "confidential_material": v["confidential_material"],
            },
            "settlement": {
                "payer": v["payer"],
                "amount": v["settlement_amount"],
                "note": v.get("settlement_note", ""),
            },
            "tender_id": (v.get("tender") or {}).get("tender_id"),
            "completed_at": now.isoformat(),
        },
    )
    _publish(
        outbox,
        session,
        "contract.expired.v1",
        contract,
        {
            "end_date": _ends_on(contract).isoformat(),
            "reason": reason,
        },
    )
    contract.status, contract.updated_at = EXPIRED, now
    return {"expired_on": _ends_on(contract).isoformat()}


def _ends_on(contract: WatchedContract) -> dt.date:
    return contract.terminated_on or contract.end_date


def _publish(
    outbox: Outbox, session: Session, event_type: str, contract: WatchedContract, data: dict
) -> None:
    outbox.record(
        session,
        CloudEvent(
            type=event_type,
            source="/renewal",
            subject=contract.contract_id,
            data={"contract_id": contract.contract_id, **data},
        ),
    )
