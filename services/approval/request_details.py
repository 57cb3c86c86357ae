"""What the read-only details page of a request shows: the request as the mail showed
it, where its levels stand, and the contract as this service knows it now."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.approval.mails import ApprovalMails, _name
from services.approval.models import ApprovalTask, Approver, SignedContract

TASK_STATUS_NAMES = {
    "zh": {"open": "待审批", "decided": "已决定", "superseded": "已失效", "withdrawn": "已撤回"},
    "en": {
        "open": "waiting",
        "decided": "decided",
        "superseded": "superseded",
        "withdrawn": "withdrawn",
    },
}
STATUS_NAMES = {
    "zh": {"pending": "审批中", "approved": "已批准", "rejected": "已驳回", "withdrawn": "已撤回"},
    "en": {
        "pending": "pending",
        "approved": "approved",
        "rejected": "rejected",
        "withdrawn": "withdrawn",
    },
}

# The signed-contract read model's status (signed_contracts), as the page names it.
CONTRACT_STATUS_NAMES = {
    "zh": {"active": "履行中", "terminated": "已解除"},
    "en": {"active": "active", "terminated": "terminated"},
}


def request_details(
    session: Session, mails: ApprovalMails, task: ApprovalTask, approver: Approver
) -> dict[str, Any]:
    context = mails.context(session, task, approver)
    request = context["request"]
    tasks = session.scalars(
        select(ApprovalTask)
        .where(ApprovalTask.request_id == request.request_id)
        .order_by(ApprovalTask.level, ApprovalTask.created_at)
    ).all()
    contract = session.get(SignedContract, request.contract_id)
    content = ((contract.terms or {}).get("service_content") or {}) if contract else {}
    lang = mails.templates.language(approver.language)
    return {
        **context,
        "details_link": None,  # this is the details page
        "status_names": STATUS_NAMES[lang],
        "contract": contract,
        "contract_status_name": (
            CONTRACT_STATUS_NAMES[lang].get(contract.status, contract.status) if contract else None
        ),
        "modules": list(content.get("functional_modules") or []),
        "tasks": [
            {
                "level": t.level,
                "name": _name(session, t.person_id),
                "status": TASK_STATUS_NAMES[lang].get(t.status, t.status),
                "decision": t.decision,
                "comment": t.comment,
            }
            for t in tasks
        ],
    }
