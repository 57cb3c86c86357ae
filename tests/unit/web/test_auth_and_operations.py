"""Every API but health and metrics wants a bearer JWT with the right role; errors are
problem+json; the operational endpoints answer without a token."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from contractflow.auth import TokenService
from contractflow.db import make_engine
from contractflow.migrate import upgrade
from contractflow.service import build_kernel
from services.renewal.app import create_app
from tests.conftest import service_settings

SECRET = "test-secret-that-is-long-enough-for-hs256"


def make_client(tmp_path, kafka: str):
    settings = service_settings(
        "renewal",
        f"sqlite:///{tmp_path / 'renewal.sqlite3'}",
        "test.",
        kafka_bootstrap_servers=kafka,
    )
    upgrade(make_engine(settings.database_url), "renewal")
    return create_app(settings).test_client()


@pytest.fixture
def client(tmp_path):
    return make_client(tmp_path, kafka="127.0.0.1:1")  # nothing listens there


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mint(roles, secret=SECRET, issuer="contractflow", hours=1.0) -> str:
    return TokenService(secret, issuer).mint("alice", roles, dt.timedelta(hours=hours))


def test_no_token_is_401_problem_json(client):
    response = client.get("/contracts")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json["title"] == "Authentication required"


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        mint(["admin"], secret="another-secret-of-sufficient-length-xx"),
        mint(["admin"], issuer="someone-else"),
        mint(["admin"], hours=-1),
    ],
    ids=["garbage", "wrong-secret", "wrong-issuer", "expired"],
)
def test_invalid_token_is_401(client, token):
    response = client.get("/contracts", headers=bearer(token))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["title"] == "Invalid token"


def test_a_token_accepted_once_is_refused_after_it_expires(client, monkeypatch):
    # Verified tokens are remembered per process; the memory must not outlive the token.
    token = mint(["renewal-manager"], hours=1)
    assert client.get("/contracts", headers=bearer(token)).status_code == 200
    later = time.time() + 2 * 3600
    monkeypatch.setattr("contractflow.auth.time.time", lambda: later)
    monkeypatch.setattr("jwt.api_jwt.datetime", _FrozenDatetime(later))
    response = client.get("/contracts", headers=bearer(token))
    assert response.status_code == 401
    assert "expired" in response.json["detail"].lower()


class _FrozenDatetime:
    """What PyJWT reads the current time from (`datetime.now(tz=timezone.utc)`)."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self, tz=None):
        return dt.datetime.fromtimestamp(self.at, tz)

    def __getattr__(self, name):
        return getattr(dt.datetime, name)


def test_wrong_role_is_403_naming_the_roles_needed(client):
    response = client.get("/contracts", headers=bearer(mint(["legal"])))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "renewal-manager" in response.json["required_roles"]


def test_right_role_is_served(client):
    response = client.get("/contracts", headers=bearer(mint(["renewal-manager"])))
    assert response.status_code == 200
    assert response.json == {"items": []}


def test_bad_query_is_400_naming_the_parameter(client):
    response = client.get("/contracts?limit=0&status=lost", headers=bearer(mint(["admin"])))
    assert response.status_code == 400
    assert set(response.json["errors"]) == {"limit", "status"}


def test_unknown_contract_is_404_problem(client):
    response = client.get("/contracts/C-404", headers=bearer(mint(["admin"])))
    assert response.status_code == 404
    assert "C-404" in response.json["detail"]


def test_health_metrics_and_openapi_need_no_token(client):
    assert client.get("/healthz").json == {"status": "ok", "service": "renewal"}
    client.get("/contracts")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert (
        b'http_requests_total{endpoint="/contracts",method="GET",status="401"} 1.0' in metrics.data
    )
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    operation = spec["paths"]["/contracts/{contract_id}"]["get"]
    assert operation["security"] == [{"bearer": []}]
    assert "ContractView" in spec["components"]["schemas"]  # renewal's view of a contract


def test_readyz_of_a_web_stays_200_while_the_broker_is_unreachable(client):
    # Its events wait in the outbox: a broker outage must not take the web out of service.
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": True}}


@pytest.mark.kafka
def test_the_workers_readiness_includes_the_broker(tmp_path, kafka_bootstrap):
    settings = service_settings(
        "negotiation", f"sqlite:///{tmp_path / 'n.sqlite3'}", "t.", kafka_bootstrap_servers="x:1"
    )
    kernel = build_kernel(settings)
    assert {name: check() for name, check in kernel.readiness(kafka=True).items()} == {
        "database": True,
        "kafka": False,
    }
    kernel.close()
    live = build_kernel(settings.with_overrides(kafka_bootstrap_servers=kafka_bootstrap))
    assert all(check() for check in live.readiness(kafka=True).values())
    live.close()


def test_cli_mints_tokens_the_service_accepts(client, monkeypatch, capsys):
    from contractflow.cli import main

    monkeypatch.setenv("JWT_SECRET", SECRET)
    assert main(["token", "--user", "bob", "--roles", "contract-viewer"]) == 0
    token = capsys.readouterr().out.strip()
    assert client.get("/contracts", headers=bearer(token)).status_code == 200
