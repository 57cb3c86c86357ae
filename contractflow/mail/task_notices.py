"""Telling people a human task waits for them: one email (zh/en) per recipient when a task
opens for a named person (its assignee) or for a role (every active holder of it).

The worker job finds open tasks with no notice yet and writes the notices to the mail
outbox in one transaction, so a rollback sends nothing and the sender delivers them. The
mail rows themselves mark a task as notified (purpose `task-opened`, reference = task id).
With several worker replicas the job is serialised (an advisory lock on PostgreSQL, the
write lock of BEGIN IMMEDIATE on SQLite), so each notice is written once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, exists, select, text
from sqlalchemy.orm import Session, sessionmaker

from contractflow.db import unit_of_work, utcnow
from contractflow.mail.outbox import MailMessage, queue_mail
from contractflow.mail.templates import MailTemplates
from contractflow.workflow.models import HumanTaskRow

PURPOSE = "task-opened"
TEMPLATES = Path(__file__).parent / "task_notice_templates"
ACTIVE = ("open", "claimed")
_SERIALISE = text("SELECT pg_advisory_xact_lock(hashtextextended('task-notices', 0))")


@dataclass(frozen=True)
class Recipient:
    person_id: str
    name: str
    email: str
    language: str | None


class PersonLike(Protocol):
    """What a service's people table offers (approval's directory, negotiation's people)."""

    person_id: str
    name: str
    email: str | None
    language: str | None
    roles: list[str]
    active: bool


def recipients_for(
    task: HumanTaskRow,
    person: Callable[[str], PersonLike | None],
    everyone: Callable[[], Iterable[PersonLike]],
) -> list[Recipient]:
    """The assignee if the task has one, else every active holder of its candidate role;
    people without an email address cannot be told."""
    if task.assignee:
        found = person(task.assignee)
        people = [found] if found is not None and found.active else []
    elif task.candidate_role:
        people = [p for p in everyone() if p.active and task.candidate_role in (p.roles or [])]
    else:
        people = []
    return [
        Recipient(p.person_id, p.name, p.email, p.language)
        for p in sorted(people, key=lambda p: p.person_id)
        if p.email
    ]


class TaskNotices:
    def __init__(
        self,
        recipients: Callable[[Session, HumanTaskRow], list[Recipient]],
        *,
        inbox_url: str,
        describe: Callable[[Session, HumanTaskRow], dict[str, Any]] | None = None,
        skip_forms: Iterable[str] = (),
        only_forms: Iterable[str] | None = None,
        templates: MailTemplates | None = None,
        horizon: dt.timedelta = dt.timedelta(days=7),
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        """`inbox_url`: where the service's task inbox is reached (`/workflow/tasks`);
        `describe` adds what the mail names (the contract's title; per language, the task's
        title and its role's name, `task_titles` / `role_names` {"zh": ..., "en": ...},
        else the BPMN's name and the role as the engine has them); `skip_forms`: forms
        the service tells people about itself (approval's decision links); `only_forms`:
        when given, only tasks with one of these forms are announced; `horizon`:
        tasks older than this when the job first sees them are not announced any more."""
        self.recipients, self.describe = recipients, describe
        self.inbox_url = inbox_url.rstrip("/")
        self.skip_forms = tuple(skip_forms)
        self.only_forms = None if only_forms is None else tuple(only_forms)
        self.templates = templates or MailTemplates(TEMPLATES)
        self.horizon, self.clock = horizon, clock
        self._unannounced = self._unannounced_query()

    def unannounced(self, session: Session, now: dt.datetime) -> list[HumanTaskRow]:
        since = now - self.horizon
        return list(session.scalars(self._unannounced, {"since": since}))

    def _unannounced_query(self) -> Select[Any]:
        """Built once per job (bound at execution): it runs whenever a transaction that
        opened tasks commits, and building and keying it each time cost more CPU than
        running it."""
        announced = exists().where(
            MailMessage.purpose == PURPOSE, MailMessage.reference == HumanTaskRow.id
        )
        query = (
            select(HumanTaskRow)
            .where(
                HumanTaskRow.status.in_(ACTIVE),
                HumanTaskRow.created_at >= bindparam("since"),
                ~announced,
            )
            .order_by(HumanTaskRow.created_at, HumanTaskRow.id)
            .limit(200)
        )
        if self.skip_forms:
            query = query.where(
                HumanTaskRow.form_key.is_(None) | HumanTaskRow.form_key.not_in(self.skip_forms)
            )
        if self.only_forms is not None:
            query = query.where(HumanTaskRow.form_key.in_(self.only_forms))
        return query.execution_options(populate_existing=True)

    def announce(self, session: Session) -> int:
        """Write the notices of newly opened tasks; answers how many mails were queued."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(_SERIALISE)
        now = self.clock()
        queued = 0
        for task in self.unannounced(session, now):
            about = self.describe(session, task) if self.describe else {}
            for recipient in self.recipients(session, task):
                mail = self.templates.render(
                    "task_opened",
                    recipient.language,
                    task=task,
                    recipient=recipient,
                    contract_title=about.get("contract_title") or task.contract_id or "—",
                    inbox_link=f"{self.inbox_url}/workflow/tasks/{task.id}",
                    **{k: v for k, v in about.items() if k != "contract_title"},
                )
                queue_mail(
                    session, recipient.email, mail, purpose=PURPOSE, reference=task.id, now=now
                )
                queued += 1
        return queued

    def job(self, sessions: sessionmaker[Session]) -> Callable[[], int]:
        def run_once() -> int:
            with unit_of_work(sessions) as session:
                return self.announce(session)

        return run_once
