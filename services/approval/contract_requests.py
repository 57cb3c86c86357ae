"""Change and termination requests of a signed contract: the rules a new one must pass
before its workflow starts, and the variables it starts with. Run in the caller's
transaction; a refusal is a `RequestRefused` naming the fields, for the view to render."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from contractflow.config import business_date
from contractflow.contracts import TermsValidationError, dump_contract_terms, load_contract_terms
from contractflow.workflow import WorkflowRuntime
from services.approval import signed_contracts, termination_requests
from services.approval.models import SignedContract

CHANGE_PROCESS, CHANGE_PREFIX = "change_request", "CR"
TERMINATION_PROCESS, TERMINATION_PREFIX = "termination_request", "TR"
OPEN_STATUSES = ("active", "incident")


@dataclass
class RequestRefused(Exception):
    """A request that will not start: HTTP status, title, what was wrong and which fields."""

    status: int
    title: str
    detail: str
    errors: dict[str, list[str]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class StartedRequest:
    request_id: str
    instance_id: str


def check_change_effective_date(effective_date: dt.date, now: dt.datetime) -> None:
    """An amendment takes effect on or after the (business) day it is requested."""
    if effective_date < business_date(now):
        raise RequestRefused(
            422,
            "Invalid change request",
            "effective_date lies in the past",
            errors={"effective_date": ["an amendment cannot take effect before it is signed"]},
        )


def valid_terms(field_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` as contract terms JSON, or a refusal naming each wrong field under it."""
    try:
        return dump_contract_terms(load_contract_terms(payload))
    except TermsValidationError as exc:
        raise RequestRefused(
            422,
            "Invalid terms",
            f"{field_name} is not valid contract terms",
            errors={f"{field_name}.{path}": m for path, m in exc.errors.items()},
        ) from None


def _sent_terms(body: dict[str, Any]) -> dict[str, Any] | None:
    sent = body["current_terms"]
    return None if sent is None else valid_terms("current_terms", sent)


def refuse_a_second_open_request(
    session: Session, runtime: WorkflowRuntime, process: str, contract_id: str
) -> None:
    """One open change (or termination) request per contract: two changes drawn from the
    same terms would each amend them, and the second would silently undo the first."""
    if session.get_bind().dialect.name == "postgresql":
        # Two requests arriving together must not both see none open (SQLite's BEGIN
        # IMMEDIATE already serialises writers). Released at commit.
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"{process}:{contract_id}"},
        )
    for status in OPEN_STATUSES:
        open_ones = runtime.instances(
            session, process_id=process, contract_id=contract_id, status=status, limit=1
        )
        if open_ones:
            raise RequestRefused(
                409,
                "Another request is open",
                f"contract {contract_id} already has an open {process.replace('_', ' ')} "
                f"(workflow instance {open_ones[0].id}); it must end before another starts",
                extra={"open_instance_id": open_ones[0].id},
            )


def current_terms(
    session: Session, contract_id: str, sent: dict[str, Any] | None
) -> dict[str, Any]:
    """The terms the request starts from (sent, else the read model's), or why there are none."""
    try:
        return signed_contracts.terms_to_start_from(session, contract_id, sent)
    except signed_contracts.ContractTerminated as exc:
        raise RequestRefused(
            409,
            "Contract terminated",
            str(exc),
            errors={"contract_id": ["the contract is terminated; it takes no more requests"]},
        ) from None
    except signed_contracts.TermsUnknown as exc:
        raise RequestRefused(
            422,
            "Current terms unknown",
            str(exc),
            errors={"current_terms": [signed_contracts.TERMS_UNKNOWN]},
        ) from None


def check_termination_dates(session: Session, body: dict[str, Any]) -> None:
    try:
        termination_requests.check_request_dates(
            session.get(SignedContract, body["contract_id"]),
            body["current_terms"],
            body["notice_given_on"],
            body["requested_effective_date"],
        )
    except termination_requests.TerminationDatesInvalid as exc:
        raise RequestRefused(
            422, "Invalid termination request", str(exc), errors=exc.errors
        ) from None


def workflow_variables(
    body: dict[str, Any], request_id: str, requested_by: str, base_url: str
) -> dict[str, Any]:
    """The request as the workflow keeps it: JSON (dates as ISO text), who asked, and the
    page its approvers are sent to (this service's request page unless the body names one)."""
    return {
        **{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in body.items()},
        "request_id": request_id,
        "requested_by": requested_by,
        "subject_url": body.get("subject_url") or f"{base_url}/approval/requests/{request_id}",
    }


def _start(
    session: Session,
    runtime: WorkflowRuntime,
    process: str,
    prefix: str,
    body: dict[str, Any],
    *,
    requested_by: str,
    base_url: str,
    check: Callable[[Session, dict[str, Any]], None] | None = None,
) -> StartedRequest:
    request_id = f"{prefix}-{uuid.uuid4().hex[:12]}"
    refuse_a_second_open_request(session, runtime, process, body["contract_id"])
    body = {
        **body,
        "current_terms": current_terms(session, body["contract_id"], body["current_terms"]),
    }
    if check is not None:
        check(session, body)
    live = runtime.start(
        session,
        process,
        contract_id=body["contract_id"],
        variables=workflow_variables(body, request_id, requested_by, base_url),
        started_by=requested_by,
    )
    return StartedRequest(request_id, live.id)


def start_change_request(
    session: Session,
    runtime: WorkflowRuntime,
    body: dict[str, Any],
    *,
    requested_by: str,
    base_url: str,
) -> StartedRequest:
    """`body` as ChangeRequestBody loaded it."""
    check_change_effective_date(body["effective_date"], runtime.clock())
    body = {
        **body,
        "current_terms": _sent_terms(body),
        "new_terms": valid_terms("new_terms", body["new_terms"]),
    }
    return _start(
        session,
        runtime,
        CHANGE_PROCESS,
        CHANGE_PREFIX,
        body,
        requested_by=requested_by,
        base_url=base_url,
    )


def start_termination_request(
    session: Session,
    runtime: WorkflowRuntime,
    body: dict[str, Any],
    *,
    requested_by: str,
    base_url: str,
) -> StartedRequest:
    """`body` as TerminationRequestBody loaded it."""
    claimed = body["claimed_damages"]
    body = {
        **body,
        "current_terms": _sent_terms(body),
        "claimed_damages": None if claimed is None else str(claimed),
    }
    return _start(
        session,
        runtime,
        TERMINATION_PROCESS,
        TERMINATION_PREFIX,
        body,
        requested_by=requested_by,
        base_url=base_url,
        check=check_termination_dates,
    )
