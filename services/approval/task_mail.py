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


# What a notice calls the change and termination workflows' tasks and roles in Chinese:
# the BPMN's names are English (the engine's and the editor's); an English notice uses
# them as they are. A task added in the editor has no entry and keeps its BPMN name.
TASK_TITLES = {
    ("change_request", "sign_amendment"): "登记已签署的书面变更协议",
    ("termination_request", "provider_response"): "登记服务方对解除通知的答复",
    ("termination_request", "dispute_stage"): "登记争议阶段及其结果",
    ("termination_request", "settle_fees"): "结算费用",
}
ROLE_NAMES = {
    "zh": {"contract-manager": "合同管理员"},
    "en": {"contract-manager": "contract manager"},
}


def describe(session: Session, task: HumanTaskRow) -> dict[str, Any]:
    contract = session.get(SignedContract, task.contract_id) if task.contract_id else None
    zh_title, role = TASK_TITLES.get((task.process_id, task.element_id)), task.candidate_role
    return {
        "contract_title": contract.title if contract else None,
        "task_titles": {"zh": zh_title} if zh_title else {},
        "role_names": {lang: names[role] for lang, names in ROLE_NAMES.items() if role in names},
    }


def task_notices(public_base_url: str, clock: Callable[[], dt.datetime]) -> TaskNotices:
    return TaskNotices(
        directory_recipients,
        inbox_url=public_base_url,
        describe=describe,
        skip_forms=(DECISION_FORM,),
        clock=clock,
    )
