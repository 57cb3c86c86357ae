"""Deploying a definition without holding the database while it is parsed and checked.

On SQLite every transaction takes the write lock when it begins (BEGIN IMMEDIATE), so a
deploy that parsed inside one stalled every other writer of the service — web requests,
events, timers — for as long as the parser ran. A deploy here runs in three phases:

1. read, in a short transaction: the file's current version and the versions of the
   documents it calls, copied out;
2. judge, in no transaction: parse, validate, check every name it uses is registered;
3. store, in a new transaction: re-read, and insert the version only if nothing it was
   judged against changed meanwhile (otherwise judge again, a bounded number of times).

A document that fails is never stored: `DefinitionInvalid` lists every problem found.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contractflow.workflow.bindings import _unbound
from contractflow.workflow.definitions import (
    Inspection,
    content_hash,
    inspect,
    latest_rows,
    references,
)
from contractflow.workflow.models import DefinitionRow
from contractflow.workflow.start_timers import reschedule
from contractflow.workflow.validation import DefinitionInvalid, Problem

if TYPE_CHECKING:
    from contractflow.workflow.runtime import WorkflowRuntime

log = logging.getLogger(__name__)

# Someone else deploying the same file or a dependency between our read and our write
# makes us judge again; this many times at most, then the deploy fails (and is retried
# by whoever asked, e.g. the consumer), rather than looping.
MAX_ROUNDS = 3


class DeploymentContended(RuntimeError):
    """The file or a document it calls kept changing while this deploy was judged."""


@dataclass(frozen=True)
class Candidate:
    """What phase 1 read, detached from the session: the document and what it calls."""

    file_name: str
    content: str
    digest: str
    replaces: tuple[int, int] | None  # (id, sequence) of the current version
    dependencies: tuple[tuple[int, str, str], ...]  # (id, file name, content)


def deploy_unlocked(
    session: Session,
    runtime: WorkflowRuntime,
    file_name: str,
    content: str,
    deployed_by: str,
    *,
    expected_process: str | None = None,
) -> DefinitionRow:
    """Deploy `content` as `file_name`, ending the session's transaction between phases:
    the caller must have nothing unsaved in it. Returns the stored (or identical current)
    version, left in the session's open transaction for the caller to commit."""
    for _ in range(MAX_ROUNDS):
        read = examine(session, runtime.service, file_name, content)
        if isinstance(read, DefinitionRow):
            return read
        session.rollback()  # phase 2 holds no transaction, hence no lock
        found = judge(runtime, read, expected_process)
        row = store(session, runtime, read, found, deployed_by)
        if row is not None:
            return row
        session.rollback()
    raise DeploymentContended(
        f"{file_name}: the file or a document it calls changed {MAX_ROUNDS} times while it "
        "was being checked; deploy it again"
    )


def examine(
    session: Session, service: str, file_name: str, content: str
) -> DefinitionRow | Candidate:
    """Phase 1: the current version when it is identical, else what to judge."""
    digest = content_hash(content)
    latest = latest_rows(session, service)
    current = latest.get(file_name)
    deps = _dependencies(latest, file_name, content)
    if _is_version(current, digest, deps):
        return current  # type: ignore[return-value]
    return Candidate(
        file_name,
        content,
        digest,
        (current.id, current.sequence) if current is not None else None,
        tuple((r.id, r.file_name, r.content) for r in deps),
    )


def judge(
    runtime: WorkflowRuntime, candidate: Candidate, expected_process: str | None
) -> Inspection:
    """Phase 2: every problem that stops the document deploying; raises DefinitionInvalid."""
    found = inspect(
        candidate.file_name, candidate.content, [(f, c) for _, f, c in candidate.dependencies]
    )
    problems = list(found.problems)
    for spec, subprocess_specs in found.specs.values():
        for one in (spec, *subprocess_specs.values()):
            problems += _unbound(runtime, candidate.file_name, one)
    if not problems and expected_process and expected_process not in found.provides:
        problems.append(
            Problem(
                candidate.file_name,
                "",
                f"was published for process {expected_process!r}, but provides "
                f"{', '.join(map(repr, found.provides)) or 'nothing runnable'}",
            )
        )
    if problems:
        raise DefinitionInvalid(problems)
    return found


def store(
    session: Session,
    runtime: WorkflowRuntime,
    candidate: Candidate,
    found: Inspection,
    deployed_by: str,
) -> DefinitionRow | None:
    """Phase 3: insert the version, or None when what it was judged against changed."""
    latest = latest_rows(session, runtime.service)
    current = latest.get(candidate.file_name)
    deps = _dependencies(latest, candidate.file_name, candidate.content)
    if _is_version(current, candidate.digest, deps):
        return current  # someone deployed the same content meanwhile
    replaces = (current.id, current.sequence) if current is not None else None
    if replaces != candidate.replaces or [d.id for d in deps] != [
        d[0] for d in candidate.dependencies
    ]:
        return None
    now = runtime.clock()
    row = DefinitionRow(
        service=runtime.service,
        file_name=candidate.file_name,
        sequence=(replaces[1] + 1) if replaces else 1,
        content_hash=candidate.digest,
        content=candidate.content,
        provides=" ".join(found.provides),
        requires=" ".join(str(d.id) for d in sorted(deps, key=lambda d: d.id)),
        deployed_by=deployed_by,
        deployed_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # PostgreSQL: a concurrent deploy took this sequence number
        return None
    reschedule(session, runtime.service, row.id, [(p, s) for p, (s, _) in found.specs.items()], now)
    return row


def _is_version(current: DefinitionRow | None, digest: str, deps: list[DefinitionRow]) -> bool:
    """Whether `current` is this content built against these versions of what it calls: a
    version is both, so a new decision table makes a new version of the process calling
    it (new instances decide by the new table; running ones keep theirs)."""
    return (
        current is not None
        and current.content_hash == digest
        and current.requires == " ".join(str(d.id) for d in deps)
    )


def deploy_dependents(
    runtime: WorkflowRuntime,
    sessions: sessionmaker[Session],
    deployed: DefinitionRow,
    deployed_by: str,
) -> list[tuple[str, DefinitionRow | list[Problem]]]:
    """After `deployed` committed: a new version of every file that calls what it provides
    (and of theirs in turn), each in its own transaction; a file the new version breaks
    keeps its current version, and its problems are returned with it."""
    results: list[tuple[str, DefinitionRow | list[Problem]]] = []
    provided, done = set(deployed.provides.split()), {deployed.file_name}
    while provided:
        with sessions() as session:
            callers = [
                (row.file_name, row.content)
                for row in latest_rows(session, runtime.service).values()
                if row.file_name not in done and references(row.content) & provided
            ]
        provided = set()
        for file_name, content in callers:
            done.add(file_name)
            try:
                with sessions() as session:
                    row = deploy_unlocked(session, runtime, file_name, content, deployed_by)
                    session.commit()
                    session.refresh(row)
            except DefinitionInvalid as exc:
                results.append((file_name, exc.problems))
                continue
            results.append((file_name, row))
            provided |= set(row.provides.split())
    return results


def _dependencies(
    latest: dict[str, DefinitionRow], file_name: str, content: str
) -> list[DefinitionRow]:
    providers = {
        ident: row
        for row in latest.values()
        if row.file_name != file_name
        for ident in row.provides.split()
    }
    found = {providers[i].id: providers[i] for i in references(content) if i in providers}
    return [found[i] for i in sorted(found)]


@dataclass
class FolderDeployment:
    """What start-up made of a service's workflow folders."""

    deployed: list[DefinitionRow] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)


def workflow_files(*folders: Path) -> tuple[list[tuple[str, str]], list[Problem]]:
    """(file name as stored, content) of each folder's decision tables, then processes;
    a file that is not UTF-8 text is a problem naming it, not a crash."""
    files, problems = [], []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(
            [*folder.glob("*.dmn"), *folder.glob("*.bpmn")],
            key=lambda p: (p.suffix != ".dmn", p.name),
        ):
            name = f"{folder.name}/{path.name}"
            raw = path.read_bytes()
            try:
                files.append((name, raw.decode("utf-8")))
            except UnicodeDecodeError as exc:
                problems.append(
                    Problem(
                        name,
                        "",
                        f"is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}); "
                        "save it as UTF-8",
                    )
                )
    return files, problems


STARTUP = "startup"  # deployed_by of the versions start-up deploys from the folders


def _deployed_through_the_api(
    session: Session, latest: DefinitionRow | None, content: str
) -> DefinitionRow | None:
    """`latest` when an administrator deployed it (the editor, a rollback) after start-up
    last deployed this very file: the file has not changed since, so start-up keeps the
    administrator's version instead of silently putting the file's back. A file that
    changed (a new release) is deployed over it, as a new version like any other."""
    if latest is None or latest.deployed_by == STARTUP:
        return None
    last_startup = session.scalars(
        select(DefinitionRow)
        .where(
            DefinitionRow.service == latest.service,
            DefinitionRow.file_name == latest.file_name,
            DefinitionRow.deployed_by == STARTUP,
        )
        .order_by(DefinitionRow.sequence.desc())
        .limit(1)
    ).first()
    if last_startup is None or last_startup.content_hash != content_hash(content):
        return None
    log.info(
        "%s: keeping v%s deployed by %s (the file is unchanged since start-up deployed v%s)",
        latest.file_name,
        latest.sequence,
        latest.deployed_by,
        last_startup.sequence,
    )
    return latest


def deploy_folders(
    runtime: WorkflowRuntime, sessions: sessionmaker[Session], *folders: Path
) -> FolderDeployment:
    """Start-up: deploy every changed file, one short transaction each, and refuse (log,
    never raise) those that cannot be deployed: the service goes on with the versions it
    has. Files may call processes of files later in the list, so what failed is tried
    again while a round deploys something."""
    pending, unreadable = workflow_files(*folders)
    result = FolderDeployment()
    unchanged: list[DefinitionRow] = []
    problems: list[Problem] = []
    while pending:
        failed, problems = [], []
        for file_name, content in pending:
            try:
                with sessions() as session:
                    before = latest_rows(session, runtime.service).get(file_name)
                    kept = _deployed_through_the_api(session, before, content)
                    if kept is not None:
                        session.expunge(kept)  # loaded as it is; a rollback would expire it
                    session.rollback()
                    if kept is not None:
                        result.deployed.append(kept)
                        unchanged.append(kept)
                        continue
                    row = deploy_unlocked(session, runtime, file_name, content, STARTUP)
                    session.commit()
            except DefinitionInvalid as exc:
                failed.append((file_name, content))
                problems += exc.problems
                continue
            result.deployed.append(row)
            if before is not None and before.id == row.id:
                unchanged.append(row)
        if len(failed) == len(pending):
            break
        pending = failed
    result.refused = unreadable + problems
    for problem in result.refused:
        log.error("workflow definition refused at start-up: %s", problem)
    _check_bindings_of(runtime, sessions, unchanged)
    return result


def _check_bindings_of(
    runtime: WorkflowRuntime, sessions: sessionmaker[Session], rows: list[DefinitionRow]
) -> None:
    """Versions deployed before must still find every name they use registered: if not,
    the service's code lost a registration, and it must not start (a programming error,
    not a definition to refuse)."""
    problems: list[Problem] = []
    with sessions() as session:
        for row in rows:
            if row.file_name.endswith(".dmn"):
                continue
            for process_id in row.provides.split():
                bundle = runtime.specs.get(session, row.id, process_id)
                for spec in (bundle.spec, *bundle.subprocess_specs.values()):
                    problems += _unbound(runtime, row.file_name, spec)
    if problems:
        raise DefinitionInvalid(problems)
