"""Handlers for what people do to a draft directly: create, edit, submit, cancel.

Each runs inside the caller's unit of work; the workflow steps it triggers, the draft row
and any outgoing event commit together.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractflow.contracts import ContractTerms, dump_contract_terms, load_contract_terms
from contractflow.db import transaction_memo
from contractflow.events.envelope import CloudEvent
from contractflow.events.outbox import Outbox
from contractflow.workflow import TaskFilter, WorkflowRuntime
from services.negotiation import models as m
from services.negotiation.checks import price, refresh_checks, stored_draft_checks
from services.negotiation.models import ContractDraft

PROCESS_ID = "pre_signing"
DRAFTING_TASK = "draft_contract"
SOURCE = "/negotiation"


class DraftProblem(Exception):
    """A request the draft's state does not allow; `status` is the HTTP answer."""

    status = 409
    title = "Conflict"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class DraftNotFound(DraftProblem):
    status, title = 404, "Contract not found"


class ContractSigned(DraftProblem):
    title = "Contract is signed"


class NotEditable(DraftProblem):
    title = "Contract cannot be changed now"


class StaleVersion(DraftProblem):
    title = "Contract changed meanwhile"


class ChecksFailed(DraftProblem):
    status, title = 422, "Draft is not ready for approval"


_LOCKED = "negotiation.locked_drafts"  # transaction_memo: the ids locked in it


def get_draft(session: Session, contract_id: str, *, lock: bool = False) -> ContractDraft:
    """The draft as committed; `lock` holds its row until commit (SELECT ... FOR UPDATE), so
    a workflow step and a terms edit on the same draft run one after the other.

    A draft this transaction has locked already is the session's own copy: nobody else can
    have changed the row since, and this service changes drafts only through the ORM, so
    the copy is current. (A step's service tasks each ask for the draft locked; reading it
    again for each was a round trip, a flush and an ORM load.)"""
    if lock and contract_id in transaction_memo(session, _LOCKED, set):
        held = session.get(ContractDraft, contract_id)
        if held is not None:
            return held
    draft = session.get(
        ContractDraft, contract_id, populate_existing=True, with_for_update=lock or None
    )
    if draft is None:
        raise DraftNotFound(f"no contract {contract_id!r} in negotiation")
    if lock:
        # Asked for after the read: a session's first read begins its transaction, and a
        # memo asked for before it was the no-transaction one, forgotten at the next call.
        transaction_memo(session, _LOCKED, set).add(contract_id)
    return draft


def ensure_exists(session: Session, contract_id: str) -> None:
    """DraftNotFound unless the contract exists: a key lookup, not the row with its terms."""
    found = session.scalar(
        select(ContractDraft.contract_id).where(ContractDraft.contract_id == contract_id)
    )
    if found is None:
        raise DraftNotFound(f"no contract {contract_id!r} in negotiation")


def apply_terms(draft: ContractDraft, terms: ContractTerms) -> None:
    """Store the terms and refresh the columns searched on, priced when the fees allow."""
    draft.terms = dump_contract_terms(terms)
    draft.title = terms.title
    draft.timezone = terms.timezone
    provider = terms.parties.provider if terms.parties else None
    draft.provider_id = (provider.credit_code or None) if provider else None
    draft.provider_name = provider.name if provider else None
    term = terms.service_term
    draft.start_date = term.start_date if term else None
    draft.end_date = term.end_date if term else None
    software = terms.licence.software_id if terms.licence else None
    draft.licence_software_id = software.strip().casefold() if software else None
    quote, _ = price(terms)
    draft.fee_quote = quote.to_dict() if quote else None
    draft.total_amount = quote.total.amount if quote else None
    draft.currency = quote.currency if quote else terms.fees.currency if terms.fees else "CNY"


def create_draft(
    session: Session,
    runtime: WorkflowRuntime,
    payload: dict[str, Any],
    *,
    created_by: str,
    default_timezone: str,
    now: dt.datetime,
    owner_id: str | None = None,
) -> ContractDraft:
    """A new draft from (possibly partial) terms, with its pre-signing workflow started;
    its owner is `owner_id`, else its creator."""
    terms = load_contract_terms(payload, default_timezone=default_timezone)
    # The instance's id goes into the row's INSERT: set after the start, it was an UPDATE
    # of the new row (and its JSON columns) in every creation.
    instance_id = str(uuid.uuid4())
    draft = ContractDraft(
        contract_id=f"C-{uuid.uuid4().hex[:12]}",
        workflow_instance_id=instance_id,
        status=m.REQUIREMENT,
        currency="CNY",
        review_round=0,
        reviews=[],
        approvals=[],
        created_by=created_by,
        owner_id=owner_id or created_by,
        created_at=now,
        updated_at=now,
    )
    apply_terms(draft, terms)
    session.add(draft)
    session.flush()
    runtime.start(
        session,
        PROCESS_ID,
        contract_id=draft.contract_id,
        started_by=created_by,
        instance_id=instance_id,
    )
    session.flush()  # the version the caller shows is the row's, as an edit must send it
    return draft


def ensure_editable(draft: ContractDraft) -> None:
    if draft.status == m.SIGNED:
        raise ContractSigned(
            f"contract {draft.contract_id} is signed; changes go through a change request "
            "in the approval service"
        )
    if draft.status not in m.EDITABLE:
        raise NotEditable(
            f"contract {draft.contract_id} is {draft.status}; its terms can be edited only "
            f"while it is {', '.join(m.EDITABLE)}"
        )


def edit_terms(
    session: Session,
    contract_id: str,
    payload: dict[str, Any],
    *,
    expected_version: int,
    now: dt.datetime,
) -> ContractDraft:
    draft = get_draft(session, contract_id, lock=True)
    ensure_editable(draft)
    if draft.version != expected_version:
        raise StaleVersion(
            f"contract {contract_id} is at version {draft.version}, not {expected_version}; "
            "reload it and apply your change again",
            current_version=draft.version,
        )
    terms = load_contract_terms(payload, default_timezone=draft.timezone)
    apply_terms(draft, terms)
    # What the draft shows must be about these terms, not the ones the last step checked.
    draft.checks = refresh_checks(session, draft, terms, now)
    draft.updated_at = now
    return draft


def submit_draft(
    session: Session,
    runtime: WorkflowRuntime,
    contract_id: str,
    *,
    actor: str,
    roles: frozenset[str],
    note: str,
    now: dt.datetime,
) -> ContractDraft:
    """Send the draft to legal, technical and finance review once nothing blocks it."""
    # Locked now, as the drafting step's service task (check_draft) locks it anyway: that
    # task then finds the session's copy instead of reading and parsing the row again.
    draft = get_draft(session, contract_id, lock=True)
    ensure_editable(draft)
    tasks = runtime.tasks(
        session, TaskFilter(instance_id=draft.workflow_instance_id, contract_id=contract_id)
    )
    drafting = next((t for t in tasks if t.element_id == DRAFTING_TASK), None)
    if drafting is None:
        raise NotEditable(
            f"contract {contract_id} is {draft.status}: it reaches drafting after the "
            "requirement, provider research and budget steps",
            open_tasks=[t.element_id for t in tasks],
        )
    checks = stored_draft_checks(session, draft, now)
    if not checks.ok:
        raise ChecksFailed(
            f"contract {contract_id} has {len(checks.blocking)} blocking problem(s); "
            "see 'problems' (by clause and field)",
            problems=[p.to_dict() for p in checks.blocking],
        )
    runtime.complete_task(session, drafting.id, {"note": note}, actor=actor, roles=roles)
    # `draft` is the session's copy, the one the step's service tasks locked and changed
    # (get_draft refreshes the object in the identity map): reading it again parsed the
    # same row a third time in this request. Flushed, so the version it shows is the
    # row's (the reload showed the one before the step's write).
    session.flush()
    return draft


def cancel_contract(
    session: Session,
    runtime: WorkflowRuntime,
    outbox: Outbox,
    contract_id: str,
    *,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> ContractDraft:
    """Abandon the preparation at any point before signing, and say so on `contract`."""
    draft = get_draft(session, contract_id)
    if draft.status == m.SIGNED:
        raise ContractSigned(
            f"contract {contract_id} is signed; ending it is a termination request in the "
            "approval service"
        )
    if draft.status == m.CANCELLED:
        raise NotEditable(f"contract {contract_id} is already cancelled")
    if draft.workflow_instance_id is not None:
        runtime.cancel(session, draft.workflow_instance_id, reason, actor=actor)
    draft.status, draft.cancel_reason, draft.updated_at = m.CANCELLED, reason, now
    outbox.record(
        session,
        CloudEvent(
            type="contract.cancelled.v1",
            source=SOURCE,
            subject=contract_id,
            data={
                "contract_id": contract_id,
                "reason": reason,
                "cancelled_by": actor,
                "cancelled_at": now.isoformat(),
            },
        ),
    )
    return draft
