"""What a contract owner is told by email (zh/en): reminders and missed maintenance."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from contractflow.mail import MailTemplates, queue_mail
from services.renewal.models import Deadline, MaintenanceRecord, WatchedContract


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


def _money(contract: WatchedContract, lang: str) -> str:
    # As approval's mails write it; Babel would localise it but is not a dependency yet.
    return f"{contract.total_amount:,.2f} {contract.currency}"
