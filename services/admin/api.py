"""The JSON endpoints the editor's browser code calls; views only translate: each calls
the owning service (with the signed-in admin's token) or a deployments function."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session, sessionmaker

from contractflow.web import ProblemError, load_json
from services.admin import deployments, sign_in
from services.admin.settings import MANAGED_SERVICES
from services.admin.upstreams import ServiceClient, UpstreamError

DEFINITIONS = deployments.DEFINITIONS


class DocumentBody(Schema):
    file_name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content = fields.String(required=True, validate=validate.Length(min=1))


class DeployBody(DocumentBody):
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


def make_api_blueprint(client: ServiceClient, sessions: sessionmaker[Session]) -> Blueprint:
    api = Blueprint("admin_api", __name__, url_prefix="/api")

    def call(service: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if service not in MANAGED_SERVICES:
            raise ProblemError(404, "Unknown service", f"no service {service!r}")
        try:
            if method == "GET":
                return client.get(service, path, sign_in.token())
            return client.post(service, path, sign_in.token(), body)
        except UpstreamError as exc:
            raise _as_problem(exc) from None

    @api.get("/me")
    @sign_in.admin_api()
    def me() -> Any:
        who = sign_in.principal()
        assert who is not None
        return jsonify(
            user_id=who.user_id,
            roles=sorted(who.roles),
            can_deploy=sign_in.DEPLOY_ROLE in who.roles,
        )

    @api.get("/services/<service>/definitions")
    @sign_in.admin_api()
    def list_definitions(service: str) -> Any:
        return jsonify(call(service, "GET", DEFINITIONS))

    @api.get("/services/<service>/versions/<int:definition_id>")
    @sign_in.admin_api()
    def get_version(service: str, definition_id: int) -> Any:
        return jsonify(call(service, "GET", f"{DEFINITIONS}/{definition_id}"))

    @api.get("/services/<service>/versions/<int:definition_id>/activity")
    @sign_in.admin_api()
    def get_activity(service: str, definition_id: int) -> Any:
        version = call(service, "GET", f"{DEFINITIONS}/{definition_id}")
        activity = call(service, "GET", f"{DEFINITIONS}/{definition_id}/activity")
        instances = []
        for process_id in version["provides"]:
            found = call(service, "GET", f"/workflow/instances?process_id={process_id}&limit=500")
            instances += [i for i in found["instances"] if i["definition_id"] == definition_id]
        ids = {i["id"] for i in instances}
        incidents = call(service, "GET", "/workflow/incidents?status=open&limit=500")["incidents"]
        return jsonify(
            version={k: v for k, v in version.items() if k != "content"},
            content=version["content"],
            elements=activity["elements"],
            instances=instances,
            incidents=[i for i in incidents if i["instance_id"] in ids],
        )

    @api.get("/services/<service>/instances/<instance_id>")
    @sign_in.admin_api()
    def get_instance(service: str, instance_id: str) -> Any:
        return jsonify(call(service, "GET", f"/workflow/instances/{instance_id}"))

    @api.post("/services/<service>/incidents/<int:incident_id>/retry")
    @sign_in.admin_api(sign_in.DEPLOY_ROLE)
    def retry_incident(service: str, incident_id: int) -> Any:
        return jsonify(call(service, "POST", f"/workflow/incidents/{incident_id}/retry"))

    @api.post("/services/<service>/validate")
    @sign_in.admin_api()
    def validate_document(service: str) -> Any:
        body = load_json(DocumentBody())
        return jsonify(call(service, "POST", f"{DEFINITIONS}/validate", body))

    @api.post("/services/<service>/deploy")
    @sign_in.admin_api(sign_in.DEPLOY_ROLE)
    def deploy(service: str) -> Any:
        body = load_json(DeployBody())
        if service not in MANAGED_SERVICES:
            raise ProblemError(404, "Unknown service", f"no service {service!r}")
        who = sign_in.principal()
        assert who is not None
        try:
            version = deployments.deploy(
                sessions,
                client,
                sign_in.token(),
                who.user_id,
                service,
                body["file_name"],
                body["content"],
                body["comment"],
            )
        except UpstreamError as exc:
            raise _as_problem(exc) from None
        version.pop("content", None)
        return jsonify(version), 200 if version.get("unchanged") else 201

    return api


def _as_problem(exc: UpstreamError) -> ProblemError:
    """The service's own answer, passed on: its status, title, detail and problems."""
    problem = dict(exc.problem)
    title = str(problem.pop("title", "Service error"))
    detail = str(problem.pop("detail", str(exc)))
    for key in ("status", "type", "instance"):
        problem.pop(key, None)
    return ProblemError(exc.status, title, detail, service=exc.service, **problem)
