"""The approver directory: who a role or "the owner's manager" is, with delegation.

A missing person, manager or email raises `RoutingProblem`; inside a workflow step that
becomes an incident an admin retries after fixing the directory, never a silent skip.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from contractflow.db import transaction_memo
from services.approval.models import Approver

DEPARTMENT_MANAGER = "department_manager"
# The people read in the transaction under way, held: the session's identity map holds
# objects weakly, so a person routed to in a workflow step was read again by the mail
# that step queued, and the requester again by each mail that names them.
_HELD = "approval.directory.held"


class RoutingProblem(LookupError):
    pass


def hold(session: Session, rows: Iterable[Approver | None]) -> None:
    """Keep these people in the session for the rest of its transaction (a `get` of
    one of them then reads nothing)."""
    transaction_memo(session, _HELD, _no_people).extend(r for r in rows if r is not None)


def _no_people() -> list[Approver]:
    return []


def get(session: Session, person_id: str) -> Approver | None:
    """The directory's row of `person_id` (or None), held for the transaction."""
    row = session.get(Approver, person_id)
    hold(session, [row])
    return row


def person(session: Session, person_id: str, *, purpose: str) -> Approver:
    row = get(session, person_id)
    if row is None or not row.active:
        raise RoutingProblem(f"{purpose}: {person_id!r} is not an active person in the directory")
    return row


def manager_of(session: Session, person_id: str) -> Approver:
    row = person(session, person_id, purpose="finding a manager")
    if not row.manager_id:
        raise RoutingProblem(f"{person_id!r} ({row.name}) has no manager in the directory")
    return person(session, row.manager_id, purpose=f"manager of {person_id!r}")


def holders_of(session: Session, role: str) -> list[Approver]:
    # The directory is the company's, fed by the ERP (every employee): only the people
    # whose roles, a JSON list, name this role are read, not everyone. The role is matched
    # as the JSON text the column holds (json.dumps, as SQLAlchemy wrote it), escaped for
    # LIKE, the same on both databases; the exact test below stays the rule.
    mentioned = cast(Approver.roles, String).contains(json.dumps(role), autoescape=True)
    rows = session.scalars(select(Approver).where(Approver.active.is_(True), mentioned)).all()
    found = sorted((r for r in rows if role in (r.roles or [])), key=lambda r: r.person_id)
    hold(session, found)  # the level's mails name them next
    if not found:
        raise RoutingProblem(f"nobody in the directory holds the approver role {role!r}")
    return found


def approvers_for(session: Session, role: str, owner: str) -> list[Approver]:
    """`owner`: whose contract it is (the requester unless the request names another)."""
    if role == DEPARTMENT_MANAGER:
        return [manager_of(session, owner)]
    return holders_of(session, role)


def with_delegation(session: Session, approver: Approver, today: dt.date) -> dict[str, Any]:
    """Who decides for `approver` today: a delegate within their date range, else them."""
    chosen, on_behalf_of = approver, None
    if (
        approver.delegate_id
        and approver.delegate_from is not None
        and approver.delegate_until is not None
        and approver.delegate_from <= today <= approver.delegate_until
    ):
        chosen = person(
            session, approver.delegate_id, purpose=f"delegate of {approver.person_id!r}"
        )
        on_behalf_of = approver.person_id
    if not chosen.email:
        raise RoutingProblem(f"approver {chosen.person_id!r} ({chosen.name}) has no email address")
    return {"person_id": chosen.person_id, "on_behalf_of": on_behalf_of}


def upsert(session: Session, person_id: str, data: dict[str, Any], now: dt.datetime) -> Approver:
    row = session.get(Approver, person_id) or Approver(person_id=person_id)
    delegation = data.get("delegation") or {}
    row.name = data["name"]
    row.email = data.get("email")
    row.language = data.get("language") or "zh"
    row.department = data.get("department")
    row.manager_id = data.get("manager_id")
    row.roles = list(data.get("roles") or [])
    row.active = bool(data.get("active", True))
    row.delegate_id = delegation.get("delegate_id")
    row.delegate_from = delegation.get("valid_from")
    row.delegate_until = delegation.get("valid_until")
    row.updated_at = now
    session.add(row)
    return row


def as_dict(row: Approver) -> dict[str, Any]:
    delegation = None
    if row.delegate_id:
        delegation = {
            "delegate_id": row.delegate_id,
            "valid_from": row.delegate_from.isoformat() if row.delegate_from else None,
            "valid_until": row.delegate_until.isoformat() if row.delegate_until else None,
        }
    return {
        "person_id": row.person_id,
        "name": row.name,
        "email": row.email,
        "language": row.language,
        "department": row.department,
        "manager_id": row.manager_id,
        "roles": list(row.roles or []),
        "active": row.active,
        "delegation": delegation,
        "updated_at": row.updated_at.isoformat(),
    }
