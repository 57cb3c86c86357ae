"""Calls to the services' own APIs, made with the signed-in administrator's token.

The editor owns none of a service's tables: every read and every deploy goes through the
owning service, which checks the token's roles itself.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


class UpstreamError(Exception):
    """A service answered with an error (its problem document kept) or not at all."""

    def __init__(self, service: str, status: int, problem: dict[str, Any]) -> None:
        self.service = service
        self.status = status
        self.problem = problem
        super().__init__(f"{service}: HTTP {status}: {problem.get('detail', problem)}")


@dataclass(frozen=True)
class ServiceClient:
    urls: dict[str, str]
    timeout_s: float = 10.0

    def get(self, service: str, path: str, token: str, **query: Any) -> Any:
        return self._call("GET", service, path, token, None, query)

    def post(self, service: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("POST", service, path, token, body or {}, {})

    def _call(
        self,
        method: str,
        service: str,
        path: str,
        token: str,
        body: dict[str, Any] | None,
        query: dict[str, Any],
    ) -> Any:
        if service not in self.urls:
            raise UpstreamError(service, 404, {"title": "Unknown service", "detail": service})
        url = self.urls[service].rstrip("/") + path
        params = {k: v for k, v in query.items() if v is not None}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise UpstreamError(service, exc.code, _problem(exc.read())) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UpstreamError(
                service,
                502,
                {"title": "Service unreachable", "detail": f"{service} at {url}: {reason}"},
            ) from None


def _problem(raw: bytes) -> dict[str, Any]:
    try:
        found = json.loads(raw)
    except ValueError:
        return {"title": "Error", "detail": raw[:500].decode("utf-8", "replace")}
    return found if isinstance(found, dict) else {"title": "Error", "detail": str(found)}
