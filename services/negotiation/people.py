"""Whom negotiation's tasks are announced to: people kept from `erp.employee.updated`,
and the task notices (zh/en) that go to a task's assignee or its role's holders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.mail.task_notices import Recipient, TaskNotices, recipients_for
from contractflow.workflow.models import HumanTaskRow
from services.negotiation.models import ContractDraft, Person


def remember_employee(session: Session, data: dict[str, Any], now: dt.datetime) -> None:
    row = session.get(Person, data["employee_id"]) or Person(person_id=data["employee_id"])
    row.name = data["name"]
    row.email = data.get("email")
    row.language = data.get("language") or "zh"
    row.roles = list(data.get("roles") or [])
    row.active = bool(data.get("active", True))
    row.updated_at = now
    session.add(row)


def recipients(session: Session, task: HumanTaskRow) -> list[Recipient]:
    return recipients_for(
        task,
        lambda person_id: session.get(Person, person_id),
        lambda: session.scalars(select(Person)).all(),
    )


def describe(session: Session, task: HumanTaskRow) -> dict[str, Any]:
    # The title alone: the notice job loaded the whole draft for it (its terms, quote and
    # checks as JSON, ~20 KB parsed per notice, seven notices a lifecycle).
    if not task.contract_id:
        return {"contract_title": None}
    title = session.scalar(
        select(ContractDraft.title).where(ContractDraft.contract_id == task.contract_id)
    )
    return {"contract_title": title}


def task_notices(public_url: str, clock: Callable[[], dt.datetime]) -> TaskNotices:
    return TaskNotices(recipients, inbox_url=public_url, describe=describe, clock=clock)
