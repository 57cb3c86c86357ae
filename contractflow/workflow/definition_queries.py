"""What an administrator asks about a service's definitions: versions with their instance
counts, one version's content, where its instances wait, and whether a document would
deploy — answered from the service's own tables, never written to."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contractflow.workflow import definitions
from contractflow.workflow.bindings import _unbound
from contractflow.workflow.human_tasks import ACTIVE
from contractflow.workflow.incidents import OPEN as INCIDENT_OPEN
from contractflow.workflow.models import (
    DefinitionRow,
    HumanTaskRow,
    IncidentRow,
    InstanceRow,
    TimerRow,
)
from contractflow.workflow.runtime import WorkflowRuntime
from contractflow.workflow.validation import Problem


@dataclass
class VersionSummary:
    id: int
    sequence: int
    content_hash: str
    provides: list[str]
    deployed_by: str
    deployed_at: dt.datetime
    instances: dict[str, int] = field(default_factory=dict)


@dataclass
class DefinitionSummary:
    file_name: str
    kind: str  # "bpmn" or "dmn"
    versions: list[VersionSummary] = field(default_factory=list)

    @property
    def latest(self) -> int:
        return max(v.sequence for v in self.versions)


def kind_of(file_name: str) -> str:
    return "dmn" if file_name.lower().endswith(".dmn") else "bpmn"


def list_definitions(session: Session, service: str) -> list[DefinitionSummary]:
    """Every file of the service with all its versions, newest first, and per version the
    number of instances by status (active, completed, cancelled, ...)."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for definition_id, status, n in session.execute(
        select(InstanceRow.definition_id, InstanceRow.status, func.count())
        .join(DefinitionRow, DefinitionRow.id == InstanceRow.definition_id)
        .where(DefinitionRow.service == service)
        .group_by(InstanceRow.definition_id, InstanceRow.status)
    ):
        counts[definition_id][status] = n
    rows = session.execute(
        select(
            DefinitionRow.id,
            DefinitionRow.file_name,
            DefinitionRow.sequence,
            DefinitionRow.content_hash,
            DefinitionRow.provides,
            DefinitionRow.deployed_by,
            DefinitionRow.deployed_at,
        )
        .where(DefinitionRow.service == service)
        .order_by(DefinitionRow.file_name, DefinitionRow.sequence.desc())
    )
    by_file: dict[str, DefinitionSummary] = {}
    for row in rows:
        summary = by_file.setdefault(
            row.file_name, DefinitionSummary(row.file_name, kind_of(row.file_name))
        )
        summary.versions.append(
            VersionSummary(
                id=row.id,
                sequence=row.sequence,
                content_hash=row.content_hash,
                provides=row.provides.split(),
                deployed_by=row.deployed_by,
                deployed_at=row.deployed_at,
                instances=counts.get(row.id, {}),
            )
        )
    return list(by_file.values())


def get_version(session: Session, service: str, definition_id: int) -> DefinitionRow | None:
    row = session.get(DefinitionRow, definition_id)
    return row if row is not None and row.service == service else None


def activity(session: Session, definition_id: int) -> dict[str, dict[str, int]]:
    """Per element id of one version: instances waiting there (open human tasks and
    timers of running instances) and open incidents."""
    elements: dict[str, dict[str, int]] = defaultdict(lambda: {"waiting": 0, "incidents": 0})
    of_version = InstanceRow.definition_id == definition_id
    for element_id, n in session.execute(
        select(HumanTaskRow.element_id, func.count())
        .join(InstanceRow, InstanceRow.id == HumanTaskRow.instance_id)
        .where(of_version, HumanTaskRow.status.in_(ACTIVE))
        .group_by(HumanTaskRow.element_id)
    ):
        elements[element_id]["waiting"] += n
    for element_id, n in session.execute(
        select(TimerRow.element_id, func.count())
        .join(InstanceRow, InstanceRow.id == TimerRow.instance_id)
        .where(of_version)
        .group_by(TimerRow.element_id)
    ):
        elements[element_id]["waiting"] += n
    for element_id, n in session.execute(
        select(IncidentRow.element_id, func.count())
        .join(InstanceRow, InstanceRow.id == IncidentRow.instance_id)
        .where(of_version, IncidentRow.status == INCIDENT_OPEN)
        .group_by(IncidentRow.element_id)
    ):
        elements[element_id]["incidents"] += n
    return dict(elements)


def check(
    session: Session, runtime: WorkflowRuntime, file_name: str, content: str
) -> list[Problem]:
    """Everything that would stop `content` deploying as `file_name`, without storing it:
    the same parse, script and binding checks a deploy runs, with the current versions of
    the documents it calls."""
    latest = definitions.latest_rows(session, runtime.service)
    providers = {
        ident: row
        for row in latest.values()
        if row.file_name != file_name
        for ident in row.provides.split()
    }
    needed = definitions.references(content)
    deps = {providers[i].id: providers[i] for i in needed if i in providers}
    found = definitions.inspect(
        file_name, content, [(r.file_name, r.content) for r in deps.values()]
    )
    problems = list(found.problems)
    for spec, subprocess_specs in found.specs.values():
        for one in [spec, *subprocess_specs.values()]:
            problems += _unbound(runtime, file_name, one)
    return problems


def problem_dicts(problems: list[Problem]) -> list[dict[str, Any]]:
    return [
        {"element_id": p.element_id, "reason": p.reason, "code": p.code, "params": p.params}
        for p in problems
    ]
