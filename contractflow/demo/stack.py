"""The running stack as the demo reaches it, from the same settings scripts/demo.sh gave
the services: ports, topic prefix, Kafka, the mail catcher's folder, the JWT secret and the
business clock (contractflow.clock, the one the services run on)."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import requests

from contractflow.auth import TokenService
from contractflow.clock import clock_from_env
from contractflow.config import DEFAULT_PORTS, DEV_JWT_SECRET, REPO_ROOT, business_date, secret
from contractflow.demo.people import DemoFailed

T = TypeVar("T")


class Api:
    """One service's HTTP API called as one user (a JWT with that user's roles)."""

    def __init__(self, base_url: str, tokens: TokenService, user: str, *roles: str) -> None:
        self.base_url = base_url
        jwt = tokens.mint(user, list(roles), dt.timedelta(hours=2))
        self.headers = {"Authorization": f"Bearer {jwt}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, self.base_url + path, headers=self.headers, timeout=30, **kwargs
        )

    def ok(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kw: Any) -> Any:
        return self._expected(self.call(method, path, **kw), expect)

    def found(self, path: str) -> Any:
        """GET `path`; None while it answers 404 (the service does not know it yet)."""
        response = self.call("GET", path)
        return None if response.status_code == 404 else self._expected(response, (200,))

    def _expected(self, response: requests.Response, expect: tuple[int, ...]) -> Any:
        if response.status_code not in expect:
            raise DemoFailed(
                f"{response.request.method} {response.url} answered {response.status_code}: "
                f"{response.text[:1500]}"
            )
        return response.json()

    def get(self, path: str) -> Any:
        return self.ok("GET", path)


class Stack:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.clock = clock_from_env(env)
        self.timezone = env.get("CONTRACTFLOW_TIMEZONE") or "Asia/Shanghai"
        self.tokens = TokenService(
            secret(env, "JWT_SECRET", DEV_JWT_SECRET), env.get("JWT_ISSUER", "contractflow")
        )
        self.run_dir = Path(env.get("CONTRACTFLOW_RUN_DIR") or REPO_ROOT / ".run")
        self.mail_dir = self.run_dir / "mail"
        self.bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
        self.prefix = env.get("TOPIC_PREFIX", "contractflow.")
        self.started = time.monotonic()

    @classmethod
    def from_environment(cls) -> Stack:
        return cls(dict(os.environ))

    def port(self, service: str) -> int:
        return int(self.env.get(f"{service.upper()}_PORT") or DEFAULT_PORTS[service])

    def api(self, service: str, user: str, *roles: str) -> Api:
        return Api(f"http://127.0.0.1:{self.port(service)}", self.tokens, user, *roles)

    def today(self) -> dt.date:
        """The business date now, on the clock the services run on."""
        return business_date(self.clock(), self.timezone)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def wait_for(what: str, probe: Callable[[], T | None], deadline_s: float = 60) -> T:
    """Poll `probe` until it answers something truthy; fail naming `what` and the last answer."""
    end = time.monotonic() + deadline_s
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= end:
            raise DemoFailed(f"{what}: not seen within {deadline_s:.0f}s; last: {last!r}")
        time.sleep(0.2)
