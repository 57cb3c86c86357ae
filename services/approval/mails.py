"""What an approver is told by email: the request, the subject and the decision link."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from sqlalchemy.orm import Session

from contractflow.mail import MailTemplates, queue_mail
from services.approval import directory
from services.approval.links import LinkSigner
from services.approval.models import ApprovalRequest, ApprovalTask, Approver, SignedContract

# The locale an amount is written in for a reader of each mail language.
LOCALES = {"zh": "zh_CN", "en": "en"}
KIND_NAMES = {
    "zh": {
        "contract": "合同签订",
        "change": "合同变更",
        "termination": "合同解除",
        "renewal": "合同续签",
    },
    "en": {
        "contract": "contract",
        "change": "change",
        "termination": "termination",
        "renewal": "renewal",
    },
}
RISK_NAMES = {
    "zh": {"low": "低", "medium": "中", "high": "高"},
    "en": {"low": "low", "medium": "medium", "high": "high"},
}


def texts_for(request: ApprovalRequest, lang: str) -> dict[str, Any]:
    """The request's summary and changes as written for `lang`'s reader, else as sent."""
    details = request.details or {}
    written = (details.get("texts") or {}).get(lang)
    if not written:
        return {"summary": request.summary, "changes": details.get("changes") or []}
    return {
        "summary": written.get("summary") or request.summary,
        "changes": list(written.get("changes") or []),
    }


class ApprovalMails:
    def __init__(self, templates: MailTemplates, links: LinkSigner, public_base_url: str) -> None:
        self.templates, self.links, self.base = templates, links, public_base_url

    def link_for(self, task: ApprovalTask) -> str:
        token = self.links.token(task.task_id, task.person_id, task.link_nonce)
        return f"{self.base}/approval/links/{task.task_id}?token={token}"

    def details_link_for(self, task: ApprovalTask) -> str:
        """A read-only page of the request, opened with the approver's signed link (the
        contract register behind `subject_url` wants a sign-in a mail reader lacks)."""
        token = self.links.token(task.task_id, task.person_id, task.link_nonce)
        return f"{self.base}/approval/links/{task.task_id}/details?token={token}"

    def context(self, session: Session, task: ApprovalTask, approver: Approver) -> dict[str, Any]:
        request = session.get(ApprovalRequest, task.request_id)
        if request is None:
            raise LookupError(f"approval task {task.task_id}: request {task.request_id} is missing")
        lang = self.templates.language(approver.language)
        details = request.details or {}
        names = {
            "on_behalf_of": _name(session, task.on_behalf_of),
            "escalated_from": _name(session, task.escalated_from),
        }
        return {
            **self._subject(session, request, lang),
            "approver": approver,
            "task": task,
            "reason": details.get("reason") or "",
            "on_behalf_of_name": names["on_behalf_of"],
            "escalated_from_name": names["escalated_from"],
            "details_link": self.details_link_for(task),
        }

    @staticmethod
    def _subject(session: Session, request: ApprovalRequest, lang: str) -> dict[str, Any]:
        """What the request is about, by name: the contract's title and provider (from the
        request, else the signed-contract read model) and the requester's directory name."""
        details = request.details or {}
        title, provider = details.get("title"), details.get("provider")
        # The read model only when the request does not name them (a read per mail and page).
        contract = None if title and provider else session.get(SignedContract, request.contract_id)
        return {
            "request": request,
            **texts_for(request, lang),
            "risk_name": RISK_NAMES[lang].get(request.risk, request.risk),
            "kind_name": KIND_NAMES[lang].get(request.kind, request.kind),
            "contract_title": title or (contract.title if contract else request.contract_id),
            "provider": provider or (contract.provider_name if contract else "—"),
            "requester_name": _name(session, request.requester),
            "amount": amount_text(request.amount, request.currency, lang),
        }

    def queue(self, session: Session, task: ApprovalTask, purpose: str, now: dt.datetime) -> None:
        """purpose: approval-request, approval-reminder or approval-withdrawn (templates of
        the same name)."""
        approver = directory.get(session, task.person_id)
        if approver is None or not approver.email:
            raise LookupError(
                f"approval task {task.task_id}: approver {task.person_id} has no email"
            )
        context = self.context(session, task, approver)
        mail = self.templates.render(
            purpose.replace("-", "_"), approver.language, link=self.link_for(task), **context
        )
        queue_mail(session, approver.email, mail, purpose=purpose, reference=task.task_id, now=now)

    def queue_outcome(
        self, session: Session, request: ApprovalRequest, decisions: list[dict], now: dt.datetime
    ) -> bool:
        """Tell the requester the outcome, if the directory knows their email; else the
        contract's owner, when the request names one the directory knows (a renewal
        manager outside it renegotiated their contract). A requester the directory does not
        know, on a contract of their own, is told by the service they asked through."""
        recipient = _with_email(directory.get(session, request.requester))
        owner = (request.details or {}).get("owner")
        if recipient is None and owner and owner != request.requester:
            recipient = _with_email(directory.get(session, owner))
        if recipient is None:
            return False
        lang = self.templates.language(recipient.language)
        mail = self.templates.render(
            "approval_decided",
            recipient.language,
            requester=recipient,
            # Someone else asked on the owner's behalf: the mail says who.
            asked_by=None
            if recipient.person_id == request.requester
            else _name(session, request.requester),
            **self._subject(session, request, lang),
            decisions=[{**d, "name": _name(session, d["approver"])} for d in decisions],
        )
        queue_mail(
            session,
            recipient.email,
            mail,
            purpose="approval-decided",
            reference=request.request_id,
            now=now,
        )
        return True


def amount_text(amount: Decimal, currency: str, lang: str) -> str:
    """The amount as the reader's locale groups it, with the currency's own decimals (JPY
    none, CNY two); the templates put the currency code before it."""
    return format_currency(amount, currency, "#,##0.00", locale=LOCALES[lang], currency_digits=True)


def _with_email(person: Approver | None) -> Approver | None:
    return person if person is not None and person.email else None


def _name(session: Session, person_id: str | None) -> str | None:
    if person_id is None:
        return None
    person = directory.get(session, person_id)
    return person.name if person is not None else person_id
