"""The business clock the entrypoints hand every service: wall clock by default, an
accelerated one shared by all processes in development, refused anywhere else."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from contractflow.clock import AcceleratedClock, clock_from_env
from contractflow.config import ConfigError
from contractflow.db import utcnow

EPOCH = "2026-12-01T10:00:00Z"


def test_without_a_rate_the_business_clock_is_the_wall_clock() -> None:
    assert clock_from_env({}) is utcnow
    assert clock_from_env({"CONTRACTFLOW_CLOCK_RATE": "1"}) is utcnow


def test_processes_given_the_same_rate_and_epoch_read_the_same_business_time() -> None:
    wall = dt.datetime(2026, 12, 1, 10, 0, 30, tzinfo=dt.UTC)  # 30 s after the epoch
    env = {"CONTRACTFLOW_CLOCK_RATE": "86400", "CONTRACTFLOW_CLOCK_EPOCH": EPOCH}
    clock = clock_from_env(env)
    assert isinstance(clock, AcceleratedClock)
    a = AcceleratedClock(clock.rate, clock.epoch, wall=lambda: wall)
    b = AcceleratedClock(clock.rate, clock.epoch, wall=lambda: wall)
    assert a() == b() == dt.datetime(2026, 12, 31, 10, 0, tzinfo=dt.UTC)  # 30 days on
    assert clock().tzinfo is not None


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CONTRACTFLOW_CLOCK_RATE": "fast"}, "CONTRACTFLOW_CLOCK_RATE must be a number"),
        ({"CONTRACTFLOW_CLOCK_RATE": "0.5", "CONTRACTFLOW_CLOCK_EPOCH": EPOCH}, "from 1"),
        ({"CONTRACTFLOW_CLOCK_RATE": "nan", "CONTRACTFLOW_CLOCK_EPOCH": EPOCH}, "from 1"),
        ({"CONTRACTFLOW_CLOCK_RATE": "1e9", "CONTRACTFLOW_CLOCK_EPOCH": EPOCH}, "from 1"),
        ({"CONTRACTFLOW_CLOCK_RATE": "100"}, "CONTRACTFLOW_CLOCK_EPOCH is not set"),
        (
            {"CONTRACTFLOW_CLOCK_RATE": "100", "CONTRACTFLOW_CLOCK_EPOCH": "yesterday"},
            "not an ISO 8601",
        ),
        (
            {"CONTRACTFLOW_CLOCK_RATE": "100", "CONTRACTFLOW_CLOCK_EPOCH": "2026-12-01T10:00"},
            "needs a time zone",
        ),
    ],
)
def test_a_malformed_clock_setting_is_refused_naming_it(env: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        clock_from_env(env)


def test_an_accelerated_clock_is_refused_outside_development() -> None:
    env = {
        "CONTRACTFLOW_CLOCK_RATE": "86400",
        "CONTRACTFLOW_CLOCK_EPOCH": EPOCH,
        "CONTRACTFLOW_ENVIRONMENT": "production",
    }
    with pytest.raises(ConfigError, match=r"CONTRACTFLOW_CLOCK_RATE=86400 but .*production"):
        clock_from_env(env)


def test_under_an_accelerated_clock_an_approval_page_stays_usable_on_the_wall_clock() -> None:
    """The link's age is business time (LINK_MAX_AGE); the rendered page's anti-forgery
    value is the browser's session and keeps its two wall-clock hours."""
    from services.approval.links import LinkClaims, LinkSigner

    wall = [dt.datetime.now(dt.UTC)]
    clock = AcceleratedClock(86_400, wall[0], wall=lambda: wall[0])
    signer = LinkSigner("unit-secret", dt.timedelta(days=3650), clock)
    claims = LinkClaims("T-1", "li.si", "n1")
    token, value = signer.token("T-1", "li.si", "n1"), signer.page_value(claims, "view-1")
    wall[0] += dt.timedelta(seconds=1)  # a wall second later: a business day
    assert signer.read(token) == claims
    signer.check_page_value(value, claims, "view-1")  # not refused as page-expired


@pytest.mark.slow
def test_a_service_process_refuses_an_accelerated_clock_outside_development(tmp_path) -> None:
    """What an operator sees: the worker exits 2 naming the setting, before touching
    anything (secrets that pass, so the clock is what is refused)."""
    env = {
        **os.environ,
        "CONTRACTFLOW_ENVIRONMENT": "production",
        "JWT_SECRET": "x" * 48,
        "DEPLOY_SECRET": "y" * 48,
        "LINK_SECRET": "z" * 48,
        "CONTRACTFLOW_CLOCK_RATE": "86400",
        "CONTRACTFLOW_CLOCK_EPOCH": EPOCH,
        "CONTRACTFLOW_RUN_DIR": str(tmp_path),
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "services.erp_connector.worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "refusing to start: CONTRACTFLOW_CLOCK_RATE=86400 but" in done.stderr
