"""HTTP entrypoint for change and termination requests: validate, start the workflow."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from contractflow.auth import current_principal, require_roles
from contractflow.config import business_date
from contractflow.contracts import TermsValidationError, dump_contract_terms, load_contract_terms
from contractflow.db import unit_of_work
from contractflow.web import ProblemError, api_doc, load_json
from contractflow.workflow import WorkflowRuntime
from services.approval import signed_contracts, termination_requests
from services.approval.models import SignedContract
from services.approval.request_schemas import ChangeRequestBody, TerminationRequestBody
from services.approval.schemas import RequestStartedOut

REQUESTERS = ("contract-manager", "workflow-admin")


def _terms(field: str, payload: dict[str, Any]) -> dict[str, Any]:
    try:
        return dump_contract_terms(load_contract_terms(payload))
    except TermsValidationError as exc:
        raise ProblemError(
            422,
            "Invalid terms",
            f"{field} is not valid contract terms",
            errors={f"{field}.{path}": m for path, m in exc.errors.items()},
        ) from None


def _sent_terms(body: dict[str, Any]) -> dict[str, Any] | None:
    sent = body["current_terms"]
    return None if sent is None else _terms("current_terms", sent)


def _current_terms(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    contract_id = body["contract_id"]
    try:
        return signed_contracts.terms_to_start_from(session, contract_id, body["current_terms"])
    except signed_contracts.ContractTerminated as exc:
        raise ProblemError(
            409,
            "Contract terminated",
            str(exc),
            errors={"contract_id": ["the contract is terminated; it takes no more requests"]},
        ) from None
    except signed_contracts.TermsUnknown as exc:
        raise ProblemError(
            422,
            "Current terms unknown",
            str(exc),
            errors={"current_terms": [signed_contracts.TERMS_UNKNOWN]},
        ) from None


def _refuse_a_second_open_request(
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
    for status in ("active", "incident"):
        open_ones = runtime.instances(
            session, process_id=process, contract_id=contract_id, status=status, limit=1
        )
        if open_ones:
            raise ProblemError(
                409,
                "Another request is open",
                f"contract {contract_id} already has an open {process.replace('_', ' ')} "
                f"(workflow instance {open_ones[0].id}); it must end before another starts",
                open_instance_id=open_ones[0].id,
            )


def _json(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}


def _termination_dates(session: Session, body: dict[str, Any]) -> None:
    try:
        termination_requests.check_request_dates(
            session.get(SignedContract, body["contract_id"]),
            body["current_terms"],
            body["notice_given_on"],
            body["requested_effective_date"],
        )
    except termination_requests.TerminationDatesInvalid as exc:
        raise ProblemError(
            422, "Invalid termination request", str(exc), errors=exc.errors
        ) from None


def make_blueprint(
    sessions: sessionmaker[Session], runtime: WorkflowRuntime, base_url: str
) -> Blueprint:
    bp = Blueprint("approval_requests", __name__, url_prefix="/approval")

    def start(
        process: str,
        prefix: str,
        body: dict[str, Any],
        check: Callable[[Session, dict[str, Any]], None] | None = None,
    ) -> tuple[Any, int]:
        request_id = f"{prefix}-{uuid.uuid4().hex[:12]}"
        user = current_principal().user_id
        with unit_of_work(sessions) as session:
            _refuse_a_second_open_request(session, runtime, process, body["contract_id"])
            body["current_terms"] = _current_terms(session, body)
            if check is not None:
                check(session, body)
            variables = {
                **_json(body),
                "request_id": request_id,
                "requested_by": user,
                "subject_url": body.get("subject_url")
                or f"{base_url}/approval/requests/{request_id}",
            }
            live = runtime.start(
                session,
                process,
                contract_id=body["contract_id"],
                variables=variables,
                started_by=user,
            )
        return jsonify({"request_id": request_id, "instance_id": live.id}), 201

    @bp.post("/change-requests")
    @require_roles(*REQUESTERS)
    @api_doc(
        "Request a change of a signed contract (written amendment)",
        body=ChangeRequestBody,
        response=RequestStartedOut,
        status=201,
        tags=("approval",),
    )
    def request_change():
        body = load_json(ChangeRequestBody())
        if body["effective_date"] < business_date(runtime.clock()):
            raise ProblemError(
                422,
                "Invalid change request",
                "effective_date lies in the past",
                errors={"effective_date": ["an amendment cannot take effect before it is signed"]},
            )
        body["current_terms"] = _sent_terms(body)
        body["new_terms"] = _terms("new_terms", body["new_terms"])
        return start("change_request", "CR", body)

    @bp.post("/termination-requests")
    @require_roles(*REQUESTERS)
    @api_doc(
        "Request the termination of a signed contract",
        body=TerminationRequestBody,
        response=RequestStartedOut,
        status=201,
        tags=("approval",),
    )
    def request_termination():
        body = load_json(TerminationRequestBody())
        body["current_terms"] = _sent_terms(body)
        if body["claimed_damages"] is not None:
            body["claimed_damages"] = str(body["claimed_damages"])
        return start("termination_request", "TR", body, _termination_dates)

    return bp
