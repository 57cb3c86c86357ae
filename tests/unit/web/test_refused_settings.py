"""Outside development a service refuses to start with a development secret, and says
which variable to set; in development (the default: make up, tests, bench) it starts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from contractflow.config import DEV_JWT_SECRET, REPO_ROOT, ConfigError, Settings
from services.approval.settings import ApprovalSettings

GOOD = "a-real-secret-of-at-least-thirty-two-characters"


@pytest.mark.parametrize("jwt", [None, DEV_JWT_SECRET])
def test_production_refuses_a_missing_or_development_jwt_secret(jwt) -> None:
    env = {"CONTRACTFLOW_ENVIRONMENT": "production"} | ({"JWT_SECRET": jwt} if jwt else {})
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        Settings.from_env("negotiation", env)


def test_production_refuses_a_short_secret_and_takes_a_real_one() -> None:
    env = {"CONTRACTFLOW_ENVIRONMENT": "production", "JWT_SECRET": "short", "DEPLOY_SECRET": GOOD}
    with pytest.raises(ConfigError, match="JWT_SECRET has 5 characters"):
        Settings.from_env("renewal", env)
    settings = Settings.from_env("renewal", env | {"JWT_SECRET": GOOD})
    assert settings.jwt_secret == GOOD and settings.environment == "production"


def test_production_refuses_the_development_link_secret() -> None:
    env = {"CONTRACTFLOW_ENVIRONMENT": "staging"}
    with pytest.raises(ConfigError, match="LINK_SECRET is not set"):
        ApprovalSettings.from_env(env)
    with pytest.raises(ConfigError, match="LINK_SECRET is the development value"):
        ApprovalSettings.from_env(env | {"LINK_SECRET": ApprovalSettings.link_secret})
    assert ApprovalSettings.from_env(env | {"LINK_SECRET": GOOD}).link_secret == GOOD


def test_development_keeps_its_defaults() -> None:
    assert Settings.from_env("approval", {}).jwt_secret == DEV_JWT_SECRET
    assert ApprovalSettings.from_env({}).link_secret == ApprovalSettings.link_secret


@pytest.mark.parametrize("service", ["negotiation", "approval", "renewal"])
def test_every_worker_process_refuses_to_start_and_names_the_variable(service, tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "LINK_SECRET")} | {
        "CONTRACTFLOW_ENVIRONMENT": "production",
        "CONTRACTFLOW_RUN_DIR": str(tmp_path),
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
    }
    done = subprocess.run(
        [sys.executable, "-m", f"services.{service}.worker"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "refusing to start" in done.stderr and "JWT_SECRET" in done.stderr
    assert "Traceback" not in done.stderr
