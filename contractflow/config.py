"""Settings read once from the environment; every default is listed in the README."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The ERP connector (the reference ERP, issue #13) runs no web; its port + 1000 is its
# worker's metrics port.
DEFAULT_PORTS = {
    "negotiation": 8001,
    "approval": 8002,
    "renewal": 8003,
    "admin": 8004,
    "erp_connector": 8005,
}


DEVELOPMENT = "development"
DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-0123456789"
DEV_DEPLOY_SECRET = "dev-only-deploy-secret-change-me-in-production-0123"
MIN_SECRET_LENGTH = 32


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def environment_of(env: Mapping[str, str]) -> str:
    """CONTRACTFLOW_ENVIRONMENT: `development` (the default: `make up`, tests, bench) or
    the name of any other environment, where development defaults are refused."""
    return (env.get("CONTRACTFLOW_ENVIRONMENT") or DEVELOPMENT).strip().lower()


def secret(env: Mapping[str, str], name: str, development_value: str) -> str:
    """A signing secret: the development value in development, and outside it a value that
    was really set, so a service never starts in production signing with a public key."""
    value = env.get(name) or ""
    environment = environment_of(env)
    if environment == DEVELOPMENT:
        return value or development_value
    if not value or value == development_value:
        raise ConfigError(
            f"{name} is {'the development value' if value else 'not set'} but "
            f"CONTRACTFLOW_ENVIRONMENT={environment}: set {name} to a random secret of at "
            f"least {MIN_SECRET_LENGTH} characters (e.g. openssl rand -base64 48)"
        )
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{name} has {len(value)} characters; outside development it needs at least "
            f"{MIN_SECRET_LENGTH}"
        )
    return value


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _worker_port(env: dict[str, str], prefix: str, service: str) -> int:
    """By default the web's port + 1000 (9001 for 8001); none when that is no port."""
    port = _int(env, f"{prefix}_PORT", DEFAULT_PORTS[service]) + 1000
    return port if port <= 65535 else 0


# The zone business dates are read in when no contract says otherwise.
BUSINESS_TIMEZONE = os.environ.get("CONTRACTFLOW_TIMEZONE") or "Asia/Shanghai"


def business_date(moment: dt.datetime, zone: str | None = None) -> dt.date:
    """The calendar date `moment` falls on where the business is: the contract's zone when
    given, else CONTRACTFLOW_TIMEZONE. Between 00:00 and 08:00 in Shanghai the UTC date is
    still yesterday; delegation windows and "not in the past" must not be a day off."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone or BUSINESS_TIMEZONE)).date()


def duration(name: str, text: str) -> dt.timedelta:
    """An ISO 8601 duration setting (P2D, PT4H, P1W, P1M), read by the same parser as the
    BPMN timers, so a value that works in a timer works here. Calendar units count from
    now (P1M: this month's length)."""
    from contractflow.workflow.timers import TimerValueInvalid, add_duration

    now = dt.datetime.now(dt.UTC)
    try:
        return add_duration(now, text.strip()) - now
    except TimerValueInvalid as exc:
        raise ConfigError(f"{name}={text!r}: {exc}") from None


@dataclass(frozen=True)
class Settings:
    """Everything a service process needs to know about its surroundings."""

    service: str
    database_url: str
    kafka_bootstrap_servers: str
    topic_prefix: str
    port: int
    jwt_secret: str
    # The worker's /metrics, /healthz and /readyz; 0: none.
    worker_port: int = 0
    worker_host: str = "127.0.0.1"
    jwt_issuer: str = "contractflow"
    run_dir: Path = field(default_factory=lambda: REPO_ROOT / ".run")
    topic_partitions: int = 6
    consumer_max_attempts: int = 5
    consumer_backoff_ms: int = 200
    consumer_session_timeout_ms: int = 30_000
    max_event_bytes: int = 1_000_000
    relay_batch_size: int = 500
    log_level: str = "INFO"
    timezone: str = "Asia/Shanghai"
    # Signs and checks workflow.definition.published events: only its holders can deploy.
    deploy_secret: str = DEV_DEPLOY_SECRET
    environment: str = DEVELOPMENT

    @classmethod
    def from_env(cls, service: str, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        run_dir = Path(env.get("CONTRACTFLOW_RUN_DIR") or REPO_ROOT / ".run")
        prefix = service.upper()
        database_url = (
            env.get(f"{prefix}_DATABASE_URL")
            or env.get("DATABASE_URL")
            or f"sqlite:///{run_dir / 'data' / f'{service}.sqlite3'}"
        )
        if service not in DEFAULT_PORTS:
            raise ConfigError(
                f"unknown service {service!r}; expected one of {sorted(DEFAULT_PORTS)}"
            )
        return cls(
            service=service,
            database_url=database_url,
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            topic_prefix=env.get("TOPIC_PREFIX", "contractflow."),
            port=_int(env, f"{prefix}_PORT", DEFAULT_PORTS[service]),
            worker_port=_int(env, f"{prefix}_WORKER_PORT", _worker_port(env, prefix, service)),
            worker_host=env.get("WORKER_HOST", "127.0.0.1"),
            jwt_secret=secret(env, "JWT_SECRET", DEV_JWT_SECRET),
            environment=environment_of(env),
            jwt_issuer=env.get("JWT_ISSUER", "contractflow"),
            run_dir=run_dir,
            topic_partitions=_int(env, "TOPIC_PARTITIONS", 6),
            consumer_max_attempts=_int(env, "CONSUMER_MAX_ATTEMPTS", 5),
            consumer_backoff_ms=_int(env, "CONSUMER_BACKOFF_MS", 200),
            consumer_session_timeout_ms=_int(env, "CONSUMER_SESSION_TIMEOUT_MS", 30_000),
            max_event_bytes=_int(env, "MAX_EVENT_BYTES", 1_000_000),
            relay_batch_size=_int(env, "RELAY_BATCH_SIZE", 500),
            log_level=env.get("LOG_LEVEL", "INFO"),
            timezone=env.get("CONTRACTFLOW_TIMEZONE", "Asia/Shanghai"),
            deploy_secret=secret(env, "DEPLOY_SECRET", DEV_DEPLOY_SECRET),
        )

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
