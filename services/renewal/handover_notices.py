"""The handover's tasks announced by email (zh/en) to the contract's owner, as the approval
service announced its termination handover tasks before the one handover moved here.

Reminders and missed-maintenance tasks have their own mails (`mails.py`), so only the
handover's forms are announced; the kernel's task notices do the rest (one mail per task,
written with the outbox, once with several workers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from contractflow.mail.task_notices import Recipient, TaskNotices
from contractflow.workflow.models import HumanTaskRow
from services.renewal.handover_forms import HANDOVER_FORMS
from services.renewal.models import WatchedContract


def owner_of(session: Session, task: HumanTaskRow) -> list[Recipient]:
    contract = session.get(WatchedContract, task.contract_id) if task.contract_id else None
    if contract is None or not contract.owner_email:
        return []
    return [
        Recipient(
            contract.owner_id or contract.owner_email,
            contract.owner_name or contract.owner_email,
            contract.owner_email,
            contract.owner_language,
        )
    ]


def describe(session: Session, task: HumanTaskRow) -> dict[str, str | None]:
    contract = session.get(WatchedContract, task.contract_id) if task.contract_id else None
    return {"contract_title": contract.title if contract else None}


def handover_notices(public_url: str, clock: Callable[[], dt.datetime]) -> TaskNotices:
    return TaskNotices(
        owner_of,
        inbox_url=public_url,
        describe=describe,
        only_forms=HANDOVER_FORMS,
        clock=clock,
    )
