"""The admin editor's own rules, in process: sign-in, roles, anti-forgery, redirects,
language, and the audit of deploys (the services answered by a stand-in client)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from contractflow.config import ConfigError, Settings
from contractflow.db import make_engine
from contractflow.migrate import upgrade
from services.admin import deployments
from services.admin.app import create_app
from services.admin.settings import AdminSettings, parse_dev_users
from services.admin.upstreams import UpstreamError


@pytest.fixture
def client(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'admin.sqlite3'}"
    upgrade(make_engine(url), "admin")
    settings = Settings.from_env(
        "admin", {"DATABASE_URL": url, "CONTRACTFLOW_RUN_DIR": str(tmp_path)}
    )
    app = create_app(settings, AdminSettings.from_env({"NEGOTIATION_PORT": "1"}))
    return app.test_client()


def csrf_of(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def sign_in(client, user: str, next_url: str = "/audit"):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"user": user, "csrf": csrf_of(client), "next": next_url})


def test_sign_in_needs_the_anti_forgery_token(client):
    refused = client.post("/login", data={"user": "ada", "next": "/audit"})
    assert refused.status_code == 403
    assert client.get("/audit").status_code == 302  # still signed out: sent to /login


def test_an_admin_signs_in_and_the_cookie_is_http_only_and_strict(client):
    response = sign_in(client, "ada")
    assert response.status_code == 302 and response.headers["Location"] == "/audit"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = client.get("/audit")
    assert page.status_code == 200
    assert "eyJ" not in page.get_data(as_text=True), "the JWT must never reach the page"
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]


def test_a_user_without_an_admin_role_is_refused(client):
    sign_in(client, "cleo")
    assert client.get("/workflows").status_code == 403
    assert client.get("/api/me").status_code == 403


def test_a_read_only_admin_cannot_deploy(client):
    sign_in(client, "ben")
    csrf = csrf_of(client)
    response = client.post(
        "/api/services/negotiation/deploy",
        json={"file_name": "x.bpmn", "content": "<x/>"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 403
    assert response.json["required_roles"] == ["workflow-admin"]


def test_api_writes_need_the_token_and_the_same_origin(client):
    sign_in(client, "ada")
    body = {"file_name": "x.bpmn", "content": "<x/>"}
    assert client.post("/api/services/negotiation/validate", json=body).status_code == 403
    foreign = client.post(
        "/api/services/negotiation/validate",
        json=body,
        headers={"X-CSRF-Token": csrf_of(client), "Origin": "http://evil.example"},
    )
    assert foreign.status_code == 403 and "cross-origin" in foreign.json["detail"]


def test_an_unreachable_service_is_a_502_naming_it(client):
    sign_in(client, "ada")
    response = client.get("/api/services/negotiation/definitions")
    assert response.status_code == 502
    assert "negotiation" in response.json["detail"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_sign_in_never_redirects_off_site(client, target):
    response = sign_in(client, "ada", target)
    assert response.headers["Location"] == "/workflows"


def test_the_language_choice_is_remembered(client):
    sign_in(client, "ada")
    switched = client.get("/lang/zh?next=/audit")
    assert switched.status_code == 302 and "lang=zh" in switched.headers["Set-Cookie"]
    assert "部署审计" in client.get("/audit").get_data(as_text=True)
    client.get("/lang/en?next=/audit")
    assert "Deploy audit" in client.get("/audit").get_data(as_text=True)


class RefusingClient:
    def post(self, service: str, path: str, token: str, body: Any = None) -> Any:
        raise UpstreamError(service, 422, {"title": "Definition invalid", "problems": []})


class AcceptingClient:
    def post(self, service: str, path: str, token: str, body: Any = None) -> Any:
        return {"id": 7, "sequence": 3, "unchanged": False}


def test_deploys_and_refusals_are_both_in_the_audit(tmp_path: Path):
    from contractflow.db import make_session_factory

    engine = make_engine(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    upgrade(engine, "admin")
    sessions = make_session_factory(engine)
    with pytest.raises(UpstreamError):
        deployments.deploy(
            sessions, RefusingClient(), "t", "ada", "approval", "a.bpmn", "<x/>", "try"
        )
    deployments.deploy(sessions, AcceptingClient(), "t", "ada", "approval", "a.bpmn", "<x/>", "fix")  # type: ignore[arg-type]
    rows = deployments.recent_audit(sessions)
    assert [(r.outcome, r.comment, r.sequence) for r in rows] == [
        ("deployed", "fix", 3),
        ("refused", "try", None),
    ]


def test_settings_refuse_a_malformed_user_list_and_dev_secrets_in_production():
    assert parse_dev_users("ada:workflow-admin+admin") == {"ada": ("workflow-admin", "admin")}
    with pytest.raises(ConfigError, match="ADMIN_DEV_USERS"):
        parse_dev_users("ada")
    with pytest.raises(ConfigError, match="ADMIN_SESSION_SECRET"):
        AdminSettings.from_env({"CONTRACTFLOW_ENVIRONMENT": "production"})
    production = AdminSettings.from_env(
        {"CONTRACTFLOW_ENVIRONMENT": "production", "ADMIN_SESSION_SECRET": "s" * 48}
    )
    assert production.dev_login is False
