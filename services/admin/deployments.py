"""Deploys, rollbacks, version history and diffs: what the editor decides, with every
attempt audited — whether the owning service took the version or refused it."""

from __future__ import annotations

import difflib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractflow.db import unit_of_work
from services.admin.models import DeployAudit
from services.admin.upstreams import ServiceClient, UpstreamError

DEFINITIONS = "/workflow/definitions"


def deploy(
    sessions: sessionmaker[Session],
    client: ServiceClient,
    token: str,
    actor: str,
    service: str,
    file_name: str,
    content: str,
    comment: str,
    *,
    rollback_to: int | None = None,
) -> dict[str, Any]:
    """Deploy `content` as the next version of `file_name` through its service."""
    audit = DeployAudit(
        actor=actor,
        service=service,
        file_name=file_name,
        action="deploy" if rollback_to is None else "rollback",
        rollback_to=rollback_to,
        comment=comment,
        detail="",
    )
    try:
        version = client.post(
            service,
            DEFINITIONS,
            token,
            {"file_name": file_name, "content": content, "comment": comment},
        )
    except UpstreamError as exc:
        audit.outcome = "refused" if exc.status in (403, 413, 422) else "failed"
        audit.detail = json.dumps(exc.problem, ensure_ascii=False)[:20_000]
        _record(sessions, audit)
        raise
    audit.outcome = "unchanged" if version.get("unchanged") else "deployed"
    audit.definition_id = version["id"]
    audit.sequence = version["sequence"]
    _record(sessions, audit)
    return dict(version)


def rollback(
    sessions: sessionmaker[Session],
    client: ServiceClient,
    token: str,
    actor: str,
    service: str,
    definition_id: int,
    comment: str,
) -> dict[str, Any]:
    """A new version whose content is that of an older one; history is never rewritten."""
    old = client.get(service, f"{DEFINITIONS}/{definition_id}", token)
    return deploy(
        sessions,
        client,
        token,
        actor,
        service,
        old["file_name"],
        old["content"],
        comment,
        rollback_to=old["sequence"],
    )


def history(
    sessions: sessionmaker[Session],
    client: ServiceClient,
    token: str,
    service: str,
    file_name: str,
) -> dict[str, Any] | None:
    """The file's versions from its service, newest first, each with the comment its
    deploy was given here (versions deployed at a service's start have none)."""
    listing = client.get(service, DEFINITIONS, token)
    found = next((d for d in listing["definitions"] if d["file_name"] == file_name), None)
    if found is None:
        return None
    comments = {}
    with unit_of_work(sessions) as session:
        for row in session.scalars(
            select(DeployAudit).where(
                DeployAudit.service == service,
                DeployAudit.file_name == file_name,
                DeployAudit.outcome == "deployed",
            )
        ):
            comments[row.sequence] = (row.comment, row.action, row.rollback_to)
    for version in found["versions"]:
        comment, action, rollback_to = comments.get(version["sequence"], ("", "", None))
        version.update(comment=comment, action=action or "start-up", rollback_to=rollback_to)
    return dict(found)


def diff(
    client: ServiceClient, token: str, service: str, older_id: int, newer_id: int
) -> dict[str, Any]:
    """A unified diff of two versions' XML, line by line."""
    older = client.get(service, f"{DEFINITIONS}/{older_id}", token)
    newer = client.get(service, f"{DEFINITIONS}/{newer_id}", token)
    lines = difflib.unified_diff(
        older["content"].splitlines(),
        newer["content"].splitlines(),
        fromfile=f"{older['file_name']} v{older['sequence']}",
        tofile=f"{newer['file_name']} v{newer['sequence']}",
        lineterm="",
    )
    return {"older": _meta(older), "newer": _meta(newer), "lines": list(lines)}


def recent_audit(sessions: sessionmaker[Session], limit: int = 100) -> list[DeployAudit]:
    with unit_of_work(sessions) as session:
        rows = session.scalars(
            select(DeployAudit).order_by(DeployAudit.id.desc()).limit(limit)
        ).all()
        session.expunge_all()
        return list(rows)


def _meta(version: dict[str, Any]) -> dict[str, Any]:
    return {k: version[k] for k in ("id", "file_name", "sequence", "deployed_by", "deployed_at")}


def _record(sessions: sessionmaker[Session], audit: DeployAudit) -> None:
    with unit_of_work(sessions) as session:
        session.add(audit)
