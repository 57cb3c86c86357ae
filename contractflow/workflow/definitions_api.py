"""The definitions HTTP API: versions, content, validation and deploys, as a blueprint.

What the admin editor (services/admin) reads and deploys through: it owns none of a
service's tables, so everything it shows comes from here. Reads need `admin` or
`workflow-admin`; a deploy needs `workflow-admin`. Views only translate.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from flask import Blueprint, jsonify, request
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session, sessionmaker

from contractflow.auth import current_principal, require_roles
from contractflow.db import unit_of_work
from contractflow.web import ProblemError, api_doc, load_json
from contractflow.workflow import definition_queries as q
from contractflow.workflow import problem_codes
from contractflow.workflow.deployment import deploy_dependents, deploy_unlocked
from contractflow.workflow.runtime import WorkflowRuntime
from contractflow.workflow.validation import DefinitionInvalid

TAGS = ("workflow definitions",)
READ_ROLES = ("admin", "workflow-admin")
DEPLOY_ROLE = "workflow-admin"
# Our own files are under 100 kB; an upload ten times that is a mistake, not a workflow.
MAX_DOCUMENT_BYTES = 2_000_000
FILE_NAME = validate.Regexp(
    r"^([a-z0-9_-]{1,64}/)?[A-Za-z0-9_.-]{1,180}\.(bpmn|dmn)$",
    error="a file name like 'pre_signing.bpmn' or 'approval_routing.dmn'",
)


class DocumentBody(Schema):
    file_name = fields.String(required=True, validate=FILE_NAME)
    content = fields.String(required=True, validate=validate.Length(min=1))


class DeployBody(DocumentBody):
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class ProblemOut(Schema):
    element_id = fields.String()
    reason = fields.String()
    code = fields.String(metadata={"description": "what it is (problem_codes); '' if unknown"})
    params = fields.Dict(keys=fields.String(), values=fields.String())


class ValidationOut(Schema):
    valid = fields.Boolean()
    problems = fields.List(fields.Nested(ProblemOut))


class VersionOut(Schema):
    id = fields.Integer()
    sequence = fields.Integer()
    content_hash = fields.String()
    provides = fields.List(fields.String())
    deployed_by = fields.String()
    deployed_at = fields.DateTime()
    instances = fields.Dict(keys=fields.String(), values=fields.Integer())


class DefinitionOut(Schema):
    file_name = fields.String()
    kind = fields.String()
    latest = fields.Integer()
    versions = fields.List(fields.Nested(VersionOut))


class DefinitionListOut(Schema):
    service = fields.String()
    definitions = fields.List(fields.Nested(DefinitionOut))


class VersionContentOut(VersionOut):
    file_name = fields.String()
    content = fields.String()


class DependentOut(Schema):
    file_name = fields.String()
    sequence = fields.Integer(allow_none=True)
    problems = fields.List(fields.Dict())


class DeployedOut(VersionContentOut):
    unchanged = fields.Boolean()
    # Files calling what this version provides, deployed again against it: a process whose
    # decision table changed decides its next instances by the new table.
    dependents = fields.List(fields.Nested(DependentOut))


class ActivityOut(Schema):
    definition_id = fields.Integer()
    elements = fields.Dict(keys=fields.String(), values=fields.Dict())


def make_definitions_blueprint(
    runtime: WorkflowRuntime,
    sessions: sessionmaker[Session],
    *,
    url_prefix: str = "/workflow/definitions",
) -> Blueprint:
    bp = Blueprint("workflow_definitions", __name__, url_prefix=url_prefix)
    service = runtime.service

    @bp.get("")
    @require_roles(*READ_ROLES)
    @api_doc(
        "Every BPMN and DMN file with its versions and their instance counts",
        response=DefinitionListOut,
        tags=TAGS,
    )
    def list_definitions() -> Any:
        with unit_of_work(sessions) as session:
            found = q.list_definitions(session, service)
        return jsonify(
            DefinitionListOut().dump(
                {
                    "service": service,
                    "definitions": [
                        {**_fields(d), "latest": d.latest, "versions": d.versions} for d in found
                    ],
                }
            )
        )

    @bp.get("/<int:definition_id>")
    @require_roles(*READ_ROLES)
    @api_doc("One version, with its XML", response=VersionContentOut, tags=TAGS)
    def get_version(definition_id: int) -> Any:
        with unit_of_work(sessions) as session:
            row = q.get_version(session, service, definition_id)
            if row is None:
                raise ProblemError(404, "Not found", f"no definition version {definition_id}")
            return jsonify(VersionContentOut().dump(_version(row)))

    @bp.get("/<int:definition_id>/activity")
    @require_roles(*READ_ROLES)
    @api_doc(
        "Per element of one version: instances waiting there and open incidents",
        response=ActivityOut,
        tags=TAGS,
    )
    def get_activity(definition_id: int) -> Any:
        with unit_of_work(sessions) as session:
            if q.get_version(session, service, definition_id) is None:
                raise ProblemError(404, "Not found", f"no definition version {definition_id}")
            elements = q.activity(session, definition_id)
        return jsonify(definition_id=definition_id, elements=elements)

    @bp.post("/validate")
    @require_roles(*READ_ROLES)
    @api_doc(
        "Check a document as a deploy would, storing nothing",
        body=DocumentBody,
        response=ValidationOut,
        tags=TAGS,
    )
    def validate_document() -> Any:
        body = _load_document(DocumentBody())
        with unit_of_work(sessions) as session:
            problems = q.check(session, runtime, body["file_name"], body["content"])
        return jsonify(valid=not problems, problems=q.problem_dicts(problems))

    @bp.post("")
    @require_roles(DEPLOY_ROLE)
    @api_doc(
        "Deploy a new version; new instances start on it, running ones stay on theirs",
        body=DeployBody,
        response=DeployedOut,
        status=201,
        tags=TAGS,
    )
    def deploy() -> Any:
        body = _load_document(DeployBody())
        who = current_principal().user_id
        try:
            with unit_of_work(sessions) as session:
                before = q.definitions.latest_rows(session, service).get(body["file_name"])
                before_id = before.id if before is not None else None
                # Parses and checks (bindings included) outside any transaction, so the
                # service's other writers never wait on SQLite's lock for the parser. The
                # new row is what every process of the service starts from: no event is
                # announced, since one arriving after a later deploy would be a stale
                # deploy for the signed-event handler to refuse.
                row = deploy_unlocked(session, runtime, body["file_name"], body["content"], who)
                unchanged = before_id == row.id
                out = {**_version(row), "unchanged": unchanged}
            out["dependents"] = [] if unchanged else _dependents(runtime, sessions, row, who)
        except DefinitionInvalid as exc:
            raise ProblemError(
                422,
                "Definition invalid",
                f"{body['file_name']} cannot be deployed; see 'problems'",
                problems=q.problem_dicts(exc.problems),
            ) from None
        return jsonify(DeployedOut().dump(out)), 200 if unchanged else 201

    return bp


def _dependents(
    runtime: WorkflowRuntime, sessions: sessionmaker[Session], row: Any, who: str
) -> list[dict[str, Any]]:
    return [
        {"file_name": name, "sequence": None, "problems": q.problem_dicts(result)}
        if isinstance(result, list)
        else {"file_name": name, "sequence": result.sequence, "problems": []}
        for name, result in deploy_dependents(runtime, sessions, row, who)
    ]


def _load_document(schema: Schema) -> Any:
    if (request.content_length or 0) > MAX_DOCUMENT_BYTES:
        raise ProblemError(
            413, "Document too large", f"a document may have at most {MAX_DOCUMENT_BYTES} bytes"
        )
    body = load_json(schema)
    refuse_entities(body["file_name"], body["content"])
    return body


def refuse_entities(file_name: str, content: str) -> None:
    """A document type declaration is how entity expansion and external entities get in;
    no BPMN or DMN file needs one, so any is refused before the engine parses anything.
    XML allows the declaration only before the root element, so that is where we look."""
    if "<!DOCTYPE" in content[: _root_start(content)]:
        raise ProblemError(
            422,
            "Definition invalid",
            f"{file_name} declares a DOCTYPE; entity declarations are not accepted",
            problems=[
                {
                    "element_id": "",
                    "reason": "DOCTYPE / ENTITY declarations are refused",
                    "code": problem_codes.DOCTYPE_REFUSED,
                    "params": {},
                }
            ],
        )


def _root_start(content: str) -> int:
    """Offset of the root element's '<' (after the XML declaration, comments and a DTD)."""
    match = _ROOT.search(content)
    return match.start() if match else len(content)


_ROOT = re.compile(r"<[A-Za-z_]")


def _version(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "sequence": row.sequence,
        "content_hash": row.content_hash,
        "provides": row.provides.split(),
        "deployed_by": row.deployed_by,
        "deployed_at": row.deployed_at,
        "instances": {},
        "file_name": row.file_name,
        "content": row.content,
    }


def _fields(value: Any) -> dict[str, Any]:
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
