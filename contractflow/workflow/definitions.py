"""Versioned BPMN/DMN definitions: validate, deploy (idempotently), and cache parsed specs.

A version is a row: content, its SHA-256 and a per-file sequence number. Instances keep
the definition id they started with; `latest_definition_id` is what new instances use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from contractflow.workflow import problem_codes
from contractflow.workflow.batch import Op, read_one
from contractflow.workflow.definition_limits import explain
from contractflow.workflow.models import DefinitionRow
from contractflow.workflow.parser import WorkflowParser
from contractflow.workflow.start_timers import check_start_timers, reschedule
from contractflow.workflow.validation import (
    BPMN_NS,
    DefinitionInvalid,
    Problem,
    add_to_parser,
    check_dmn,
    check_expressions,
    read,
    unsupported_elements,
)
from contractflow.workflow.wiring import wire_specs

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


@dataclass(frozen=True)
class ProcessBundle:
    definition_id: int
    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]


@dataclass
class Inspection:
    """What the validator found in one document."""

    file_name: str
    problems: list[Problem] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)
    specs: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict)


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def references(content: str) -> set[str]:
    """Process ids (call activities) and decision ids (business rule tasks) used."""
    try:
        root = etree.fromstring(content.encode("utf-8"))
    except (etree.XMLSyntaxError, UnicodeEncodeError):
        return set()
    ns = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
    called = set(root.xpath("//bpmn:callActivity/@calledElement", namespaces=ns))
    called |= {e.text for e in root.xpath("//spiffworkflow:calledDecisionId", namespaces=ns)}
    return {str(c).strip() for c in called if c}


def inspect(file_name: str, content: str, dependencies: list[tuple[str, str]] = ()) -> Inspection:  # type: ignore[assignment]
    """Parse and check one document with the documents it depends on; never raises."""
    try:
        return _inspect(file_name, content, dependencies)
    except Exception as exc:  # RecursionError, MemoryError: the parser's, put as a sentence
        return Inspection(file_name, [Problem(file_name, "", explain(exc))])


def _inspect(file_name: str, content: str, dependencies: list[tuple[str, str]]) -> Inspection:
    found = Inspection(file_name)
    doc, found.problems = read(file_name, content)
    if doc is None:
        return found
    parser = WorkflowParser()
    for dep_name, dep_content in dependencies:
        dep, problems = read(dep_name, dep_content)
        found.problems += problems or (add_to_parser(parser, dep) if dep else [])
    found.problems += add_to_parser(parser, doc)
    if found.problems:
        if not doc.is_dmn:
            found.problems += unsupported_elements(doc, parser)
        return found
    if doc.is_dmn:
        found.problems += check_dmn(doc, parser)
        found.provides = sorted(d for d, p in parser.dmn_parsers.items() if p.filename == file_name)
        return found
    found.problems += unsupported_elements(doc, parser)
    own = [pid for pid, p in parser.process_parsers.items() if p.filename == file_name]
    for pid in own:
        if not parser.process_parsers[pid].process_executable:
            continue
        try:
            spec = parser.get_spec(pid)
            subprocess_specs = parser.get_subprocess_specs(pid)
        except ValidationException as exc:
            from contractflow.workflow.validation import _from_exception

            found.problems.append(_from_exception(doc, exc))
            continue
        except Exception as exc:
            found.problems.append(Problem(file_name, pid, f"cannot be parsed: {explain(exc)}"))
            continue
        wire_specs([spec, *subprocess_specs.values()])
        found.problems += check_expressions(file_name, [spec, *subprocess_specs.values()])
        found.problems += check_start_timers(file_name, spec)
        found.specs[pid] = (spec, subprocess_specs)
    found.provides = sorted(found.specs)
    if not own:
        found.problems.append(
            Problem(file_name, "", "contains no bpmn:process", problem_codes.NO_PROCESS)
        )
    return found


def latest_rows(session: Session, service: str) -> dict[str, DefinitionRow]:
    newest = (
        select(DefinitionRow.file_name, func.max(DefinitionRow.sequence).label("sequence"))
        .where(DefinitionRow.service == service)
        .group_by(DefinitionRow.file_name)
        .subquery()
    )
    rows = session.scalars(
        select(DefinitionRow)
        .join(
            newest,
            (DefinitionRow.file_name == newest.c.file_name)
            & (DefinitionRow.sequence == newest.c.sequence),
        )
        .where(DefinitionRow.service == service)
    )
    return {row.file_name: row for row in rows}


def deploy(
    session: Session,
    service: str,
    file_name: str,
    content: str,
    deployed_by: str,
    now: dt.datetime,
) -> DefinitionRow:
    """Validate and store a new version; identical content returns the current version."""
    digest = content_hash(content)
    latest = latest_rows(session, service)
    current = latest.get(file_name)
    if current is not None and current.content_hash == digest:
        return current
    needed = references(content)
    providers = {
        ident: row
        for row in latest.values()
        if row.file_name != file_name
        for ident in row.provides.split()
    }
    deps = {providers[i].id: providers[i] for i in needed if i in providers}
    found = inspect(file_name, content, [(r.file_name, r.content) for r in deps.values()])
    if found.problems:
        raise DefinitionInvalid(found.problems)
    row = DefinitionRow(
        service=service,
        file_name=file_name,
        sequence=(current.sequence + 1) if current else 1,
        content_hash=digest,
        content=content,
        provides=" ".join(found.provides),
        requires=" ".join(str(i) for i in sorted(deps)),
        deployed_by=deployed_by,
        deployed_at=now,
    )
    session.add(row)
    session.flush()
    processes = [(pid, spec) for pid, (spec, _subs) in found.specs.items()]
    reschedule(session, service, row.id, processes, now)
    return row


def latest_definition_id(session: Session, service: str, process_id: str) -> int | None:
    row = read_one(session, _LATEST_DEFINITION, {"service": service, "process": process_id})
    return None if row is None else int(row[0])


# `provides` is space-separated: a process id matches as a whole word. A start's first
# statement: on PostgreSQL it goes out with the transaction's BEGIN.
_LATEST_DEFINITION = Op(
    "SELECT id FROM workflow_definition WHERE service = %(service)s "
    "AND strpos(' ' || provides || ' ', ' ' || %(process)s || ' ') > 0 "
    "ORDER BY id DESC LIMIT 1",
    select(DefinitionRow.id)
    .where(
        DefinitionRow.service == bindparam("service"),
        func.instr(" " + DefinitionRow.provides + " ", " " + bindparam("process") + " ") > 0,
    )
    .order_by(DefinitionRow.id.desc())
    .limit(1),
)


class SpecCache:
    """Parsed specs by definition id: a version is parsed once per process, on demand."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._bundles: OrderedDict[tuple[int, str], ProcessBundle] = OrderedDict()
        self._lock = threading.Lock()  # web threads share one runtime

    def get(self, session: Session, definition_id: int, process_id: str) -> ProcessBundle:
        key = (definition_id, process_id)
        with self._lock:
            bundle = self._bundles.get(key)
            if bundle is not None:
                self._bundles.move_to_end(key)
                return bundle
        row = session.get(DefinitionRow, definition_id)
        if row is None:
            raise LookupError(f"workflow definition {definition_id} does not exist")
        deps = [session.get(DefinitionRow, int(i)) for i in row.requires.split()]
        found = inspect(row.file_name, row.content, [(d.file_name, d.content) for d in deps if d])
        if process_id not in found.specs:
            raise LookupError(
                f"definition {definition_id} ({row.file_name} v{row.sequence}) has no "
                f"runnable process {process_id!r}: {'; '.join(map(str, found.problems))}"
            )
        with self._lock:
            for pid, (spec, subs) in found.specs.items():
                self._bundles[(definition_id, pid)] = ProcessBundle(definition_id, pid, spec, subs)
            bundle = self._bundles[key]
            while len(self._bundles) > self.capacity:
                self._bundles.popitem(last=False)
        return bundle

    def cached(self, definition_id: int, process_id: str) -> ProcessBundle | None:
        with self._lock:
            return self._bundles.get((definition_id, process_id))

    def clear(self) -> None:
        """Forget every parsed spec: the next use of a version parses it again."""
        with self._lock:
            self._bundles.clear()
