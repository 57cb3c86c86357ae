"""The admin editor's own settings, read once from the environment (see its README)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from contractflow.config import DEFAULT_PORTS, DEVELOPMENT, ConfigError, environment_of, secret

# The services whose workflows the editor shows, in the order of the navigation.
MANAGED_SERVICES = ("negotiation", "approval", "renewal")
DEV_SESSION_SECRET = "dev-only-admin-session-secret-change-me-0123456789"
# Development sign-in: who may be chosen and with which roles (user:role+role,...).
DEFAULT_DEV_USERS = "ada:workflow-admin+admin,ben:admin,cleo:contract-manager"


@dataclass(frozen=True)
class AdminSettings:
    service_urls: dict[str, str]
    session_secret: str
    dev_login: bool
    dev_users: dict[str, tuple[str, ...]]
    session_hours: int = 8
    upstream_timeout_s: float = 10.0
    secure_cookies: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> AdminSettings:
        env = dict(os.environ if env is None else env)
        urls = {}
        for service in MANAGED_SERVICES:
            port = env.get(f"{service.upper()}_PORT") or str(DEFAULT_PORTS[service])
            urls[service] = env.get(f"ADMIN_{service.upper()}_URL") or f"http://127.0.0.1:{port}"
        return cls(
            service_urls=urls,
            session_secret=secret(env, "ADMIN_SESSION_SECRET", DEV_SESSION_SECRET),
            # Anyone may pick any user on the development sign-in: on only in development
            # unless switched on explicitly.
            dev_login=_flag(env, "ADMIN_DEV_LOGIN", environment_of(env) == DEVELOPMENT),
            dev_users=parse_dev_users(env.get("ADMIN_DEV_USERS") or DEFAULT_DEV_USERS),
            session_hours=int(env.get("ADMIN_SESSION_HOURS") or 8),
            upstream_timeout_s=float(env.get("ADMIN_UPSTREAM_TIMEOUT_S") or 10),
            secure_cookies=_flag(env, "ADMIN_SECURE_COOKIES", False),
        )


def parse_dev_users(raw: str) -> dict[str, tuple[str, ...]]:
    users = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        user, sep, roles = item.partition(":")
        if not sep or not user:
            raise ConfigError(f"ADMIN_DEV_USERS: {item!r} is not user:role+role")
        users[user] = tuple(r for r in roles.split("+") if r)
    return users


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")
