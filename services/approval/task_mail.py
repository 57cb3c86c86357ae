"""Task notices for approval's own human tasks (amendment signing, provider response,
dispute stages, handover, settlement), to the people of the approver directory. The
`decide` tasks are announced by their decision-link email instead."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.mail.task_notices import Recipient, TaskNotices, recipients_for
from contractflow.workflow.models import HumanTaskRow
from services.approval.models import Approver, SignedContract
from services.approval.task_router import DECISION_FORM


def directory_recipients(session: Session, task: HumanTaskRow) -> list[Recipient]:
    return recipients_for(
        task,
        lambda person_id: session.get(Approver, person_id),
        lambda: session.scalars(select(Approver)).all(),
    )


def describe(session: Session, task: HumanTaskRow) -> dict[str, Any]:
    contract = session.get(SignedContract, task.contract_id) if task.contract_id else None
    return {"contract_title": contract.title if contract else None}


def task_notices(public_base_url: str, clock: Callable[[], dt.datetime]) -> TaskNotices:
    return TaskNotices(
        directory_recipients,
        inbox_url=public_base_url,
        describe=describe,
        skip_forms=(DECISION_FORM,),
        clock=clock,
    )
