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


# What a notice calls pre_signing.bpmn's tasks and roles in Chinese: the BPMN's names are
# English (the engine's and the editor's); an English notice uses them as they are. A task
# added in the editor has no entry and is called by its BPMN name.
TASK_TITLES = {
    ("pre_signing", "define_requirement"): "明确需求与预算",
    ("pre_signing", "research_provider"): "调研服务商并记录所选服务商的资质",
    ("pre_signing", "draft_contract"): "起草合同并提交审查",
    ("pre_signing", "legal_review"): "法务审查",
    ("pre_signing", "technical_review"): "技术审查",
    ("pre_signing", "finance_review"): "财务审查",
    ("pre_signing", "sign_contract"): "登记双方签字及已签署的合同文件",
}
ROLE_NAMES = {
    "zh": {
        "contract-manager": "合同管理员",
        "legal": "法务",
        "technical": "技术",
        "finance": "财务",
    },
    "en": {"contract-manager": "contract manager"},
}


def task_names(task: HumanTaskRow) -> dict[str, Any]:
    """The task's title and its role's name per notice language (task_opened templates)."""
    zh_title = TASK_TITLES.get((task.process_id, task.element_id))
    role = task.candidate_role
    return {
        "task_titles": {"zh": zh_title} if zh_title else {},
        "role_names": {lang: names[role] for lang, names in ROLE_NAMES.items() if role in names},
    }


def describe(session: Session, task: HumanTaskRow) -> dict[str, Any]:
    # The title alone: the notice job loaded the whole draft for it (its terms, quote and
    # checks as JSON, ~20 KB parsed per notice, seven notices a lifecycle).
    if not task.contract_id:
        return {"contract_title": None, **task_names(task)}
    title = session.scalar(
        select(ContractDraft.title).where(ContractDraft.contract_id == task.contract_id)
    )
    return {"contract_title": title, **task_names(task)}


def task_notices(public_url: str, clock: Callable[[], dt.datetime]) -> TaskNotices:
    return TaskNotices(recipients, inbox_url=public_url, describe=describe, clock=clock)
