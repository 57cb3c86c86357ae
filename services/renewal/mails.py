"""What a contract owner is told by email (zh/en): reminders, missed maintenance, and the
owner's tasks about the ERP's facts (an overdue payment, a purchase order that differs
from the total, a provider licence ending first), each in the transaction opening it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from contractflow.mail import MailTemplates, queue_mail
from services.renewal.models import Deadline, MaintenanceRecord, WatchedContract

# The owner tasks `owner_task.*` speaks of (their process ids): what each shows is the
# task's variables, so the mail and the inbox say the same.
OWNER_TASK_KINDS = ("payment_overdue", "purchase_order_mismatch", "provider_licence_expiring")
# Where the mail points for the facts behind the task.
_FACTS_PAGE = {"payment_overdue": "/payments", "purchase_order_mismatch": "/payments"}


class RenewalMails:
    def __init__(self, templates: MailTemplates, public_base_url: str) -> None:
        self.templates, self.base = templates, public_base_url

    def queue_reminder(
        self,
        session: Session,
        contract: WatchedContract,
        deadline: Deadline,
        days_left: int,
        now: dt.datetime,
    ) -> bool:
        """False when the contract has no owner email (the task is open anyway)."""
        if not contract.owner_email:
            return False
        lang = self.templates.language(contract.owner_language)
        mail = self.templates.render(
            "expiry_reminder",
            lang,
            contract=contract,
            deadline=deadline,
            days_left=days_left,
            total=_money(contract, lang),
            task_link=f"{self.base}/workflow/tasks/{deadline.task_id}",
            contract_link=f"{self.base}/contracts/{contract.contract_id}",
        )
        queue_mail(
            session,
            contract.owner_email,
            mail,
            purpose="expiry-reminder",
            reference=f"deadline-{deadline.id}",
            now=now,
        )
        return True

    def queue_missed_maintenance(
        self,
        session: Session,
        contract: WatchedContract,
        record: MaintenanceRecord,
        now: dt.datetime,
    ) -> bool:
        if not contract.owner_email:
            return False
        mail = self.templates.render(
            "maintenance_missed",
            contract.owner_language,
            contract=contract,
            record=record,
            task_link=f"{self.base}/workflow/tasks/{record.task_id}",
        )
        queue_mail(
            session,
            contract.owner_email,
            mail,
            purpose="maintenance-missed",
            reference=f"maintenance-{record.id}",
            now=now,
        )
        return True

    def queue_owner_task(
        self,
        session: Session,
        contract: WatchedContract,
        kind: str,
        task_id: str,
        facts: dict[str, Any],
        now: dt.datetime,
    ) -> bool:
        """One mail per task (the reference is the task); False when the contract has no
        owner email (the task is open anyway)."""
        if kind not in OWNER_TASK_KINDS:
            raise ValueError(f"no owner task mail for {kind!r}; known: {OWNER_TASK_KINDS}")
        if not contract.owner_email:
            return False
        mail = self.templates.render(
            "owner_task",
            self.templates.language(contract.owner_language),
            kind=kind,
            contract=contract,
            facts=facts,
            task_link=f"{self.base}/workflow/tasks/{task_id}",
            contract_link=f"{self.base}/contracts/{contract.contract_id}"
            + _FACTS_PAGE.get(kind, ""),
        )
        queue_mail(
            session,
            contract.owner_email,
            mail,
            purpose=f"owner-task-{kind}",
            reference=f"task-{task_id}",
            now=now,
        )
        return True


def _money(contract: WatchedContract, lang: str) -> str:
    # As approval's mails write it; Babel would localise it but is not a dependency yet.
    return f"{contract.total_amount:,.2f} {contract.currency}"
