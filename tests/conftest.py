"""Fixtures shared by the whole suite: databases (SQLite, PostgreSQL) and brokers
(in-memory, real Kafka), each test isolated by its own database and topic prefix.

`make test` starts PostgreSQL and Kafka and exports TEST_POSTGRES_URL and
KAFKA_BOOTSTRAP_SERVERS. Without them a test needing one is skipped locally, but fails
under CI=true: CI must never pass by not running the real thing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from contractflow.config import Settings
from contractflow.db import normalise_url


def require_env(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not set: CI must run this test against the real service")
    pytest.skip(f"{name} is not set (run through `make test`)")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    return require_env("TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return require_env("KAFKA_BOOTSTRAP_SERVERS")


def _create_postgres_database(admin_url: str) -> str:
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _drop_postgres_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """Makes fresh, empty databases of the kind the test is parametrised with."""
    kind = getattr(request, "param", "sqlite")
    created: list[str] = []
    admin_url = request.getfixturevalue("postgres_admin_url") if kind == "postgres" else None

    def make(label: str = "db") -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / f'{label}-{uuid.uuid4().hex[:8]}.sqlite3'}"
        assert admin_url is not None
        url = _create_postgres_database(admin_url)
        created.append(url)
        return url

    make.kind = kind  # type: ignore[attr-defined]
    yield make
    for url in created:
        _drop_postgres_database(admin_url, url)  # type: ignore[arg-type]


both_databases = pytest.mark.parametrize(
    "database_factory",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)


@pytest.fixture
def topic_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}."


def service_settings(service: str, database_url: str, topic_prefix: str, **overrides) -> Settings:
    env = {
        "DATABASE_URL": database_url,
        "TOPIC_PREFIX": topic_prefix,
        "KAFKA_BOOTSTRAP_SERVERS": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"),
        "JWT_SECRET": "test-secret-that-is-long-enough-for-hs256",
        "CONSUMER_BACKOFF_MS": "1",
        "TOPIC_PARTITIONS": "3",
    }
    return Settings.from_env(service, env).with_overrides(**overrides)
