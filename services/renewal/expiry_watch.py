"""The expiry watch: fire every due deadline once, in the transaction that marks it fired.

A reminder publishes `contract.expiring`, opens a task for the contract owner (an
`expiry_reminder` workflow instance) and queues an email (zh/en) in the kernel's mail
outbox; a maintenance check marks a period without evidence as missed; an evaluation
scores the half year. Recurring checks plan their next period as they fire."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from contractflow.contracts.fees.calendar import add_months
from contractflow.db import unit_of_work
from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import Outbox
from contractflow.workflow import WorkflowRuntime
from services.renewal import (
    deadlines,
    decisions,
    handover,
    payments,
    supervision,
    vendor_licences,
)
from services.renewal.mails import RenewalMails
from services.renewal.models import ACTIVE, CANCELLED, FIRED, RUNNING, Deadline, WatchedContract
from services.renewal.owner_tasks import open_task
from services.renewal.settings import RenewalSettings

log = logging.getLogger(__name__)
REMINDER_PROCESS = "expiry_reminder"


class ExpiryWatch:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        runtime: WorkflowRuntime,
        outbox: Outbox,
        mails: RenewalMails,
        settings: RenewalSettings,
        *,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.sessions, self.runtime, self.outbox, self.mails = sessions, runtime, outbox, mails
        self.settings, self.batch_size, self.clock = settings, settings.tick_batch, clock

    def tick(self, now: dt.datetime | None = None) -> int:
        """Fire what is due, a batch per transaction; returns how many fired. Costs one
        index range read when nothing is due."""
        now = now or self.clock()
        fired = 0
        while True:
            with unit_of_work(self.sessions) as session:
                due = deadlines.claim_due(session, now, self.batch_size)
                for deadline in due:
                    self.fire(session, deadline, now)
            fired += len(due)
            if not due:  # a fired check may have planned a next one that is due already
                return fired

    def fire(self, session: Session, deadline: Deadline, now: dt.datetime) -> None:
        contract = session.get(WatchedContract, deadline.contract_id)
        if contract is not None and deadline.kind == deadlines.HANDOVER:
            deadline.status, deadline.fired_at = FIRED, now
            handover.start(session, self.runtime, contract, now)
            return
        if contract is not None and deadline.kind in payments.PAYMENT_KINDS:
            # Owed whatever became of the contract since: the milestone says (a termination
            # cancelled those due after its effective date).
            deadline.status, deadline.fired_at = FIRED, now
            payments.fire(session, deadline, contract, now, self.outbox, self.runtime, self.mails)
            return
        if contract is None or contract.status not in RUNNING:
            deadline.status = CANCELLED  # terminated meanwhile: nothing to remind of
            return
        if contract.status != ACTIVE and deadline.kind in deadlines.ONE_OFF:
            deadline.status = CANCELLED  # renewed meanwhile: its end is decided
            return
        deadline.status, deadline.fired_at = FIRED, now
        if deadline.kind in deadlines.REMINDERS:
            self.remind(session, deadline, contract, now)
            return
        if deadline.kind == deadlines.AUTO_EXTENSION:
            if contract.objected_at is None:
                decisions.extend_automatically(session, contract, now, self.outbox, self.settings)
                # The new end may lie past the provider's licence.
                vendor_licences.check_contract(session, self.runtime, contract, now, self.mails)
                return
            reason = f"objection by {contract.objected_by}: {contract.objection_reason}"
            decisions.ask_for_decision(session, self.runtime, contract, reason, now)
        elif deadline.kind == deadlines.DECISION:
            reason = f"the contract ends on {contract.end_date} and does not renew itself"
            decisions.ask_for_decision(session, self.runtime, contract, reason, now)
        elif deadline.kind == deadlines.MAINTENANCE:
            supervision.check_maintenance(
                session, deadline, contract, now, self.runtime, self.mails
            )
        elif deadline.kind == deadlines.EVALUATION:
            period_start = add_months(
                deadline.deadline_date + dt.timedelta(days=1), -self.settings.evaluation_months
            )
            supervision.evaluate_contract(
                session,
                contract,
                max(period_start, contract.start_date),
                deadline.deadline_date,
                now,
                self.outbox,
            )
        session.flush()
        deadlines.plan(session, contract, now, self.settings)  # the next period's check

    def remind(
        self, session: Session, deadline: Deadline, contract: WatchedContract, now: dt.datetime
    ) -> None:
        """`contract.expiring`, the owner's task and email."""
        today = deadlines.business_today(now, contract.timezone)
        days_left = (deadline.deadline_date - today).days
        deadline.task_id = open_task(
            session,
            self.runtime,
            REMINDER_PROCESS,
            contract,
            {
                "deadline_kind": deadline.kind,
                "deadline_date": deadline.deadline_date.isoformat(),
                "days_left": days_left,
                "end_date": contract.end_date.isoformat(),
                "auto_renew": contract.auto_renew,
            },
            now,
            mails=None,  # its own reminder mail, below
        )
        self.outbox.record(
            session,
            CloudEvent(
                type="contract.expiring.v1",
                source="/renewal",
                subject=contract.contract_id,
                data={
                    "contract_id": contract.contract_id,
                    "deadline_kind": deadline.kind,
                    "deadline_date": deadline.deadline_date.isoformat(),
                    "days_left": days_left,
                    "end_date": contract.end_date.isoformat(),
                    "auto_renew": contract.auto_renew,
                    "owner": contract.owner_id or contract.owner_email,
                    "task_id": deadline.task_id,
                },
            ),
        )
        if not self.mails.queue_reminder(session, contract, deadline, days_left, now):
            log.warning(
                "contract %s has no owner email: reminder %s opened task %s without a mail",
                contract.contract_id,
                deadline.id,
                deadline.task_id,
            )
