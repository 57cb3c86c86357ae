"""Bearer JWT authentication: who is calling and which roles they hold.

Tokens are HS256 JWTs signed with JWT_SECRET, carrying `sub` (user id) and `roles`.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import jwt
from flask import current_app, g, request

from contractflow.web.problems import ProblemError

ALGORITHM = "HS256"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    user_id: str
    roles: frozenset[str]

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles.intersection(roles))


class TokenInvalid(ValueError):
    pass


# Verified tokens kept per process: a client sends the same token with every request, and
# checking its HS256 signature and claims again each time is a fifth of a small request's CPU.
_VERIFIED_MAX = 4096


@dataclass(frozen=True)
class TokenService:
    secret: str
    issuer: str
    # token -> (principal, expiry as a Unix time); only tokens that passed verification
    _verified: dict[str, tuple[Principal, float]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def mint(self, user_id: str, roles: Iterable[str], ttl: dt.timedelta) -> str:
        now = dt.datetime.now(dt.UTC)
        claims = {
            "sub": user_id,
            "roles": sorted(set(roles)),
            "iss": self.issuer,
            "iat": now,
            "exp": now + ttl,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            principal, expires = known
            if time.time() < expires:
                return principal
        principal, expires = self._verify(token)
        with self._lock:
            if len(self._verified) >= _VERIFIED_MAX:
                self._verified.clear()
            self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                options={"require": ["sub", "exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenInvalid(str(exc)) from None
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise TokenInvalid("claim 'roles' must be a list of strings")
        return Principal(user_id=str(claims["sub"]), roles=frozenset(roles)), float(claims["exp"])


def current_principal() -> Principal:
    return g.principal


def authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(
            401,
            "Authentication required",
            "send 'Authorization: Bearer <JWT>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    tokens: TokenService = current_app.extensions["contractflow.tokens"]
    try:
        return tokens.verify(token.strip())
    except TokenInvalid as exc:
        raise ProblemError(
            401,
            "Invalid token",
            str(exc),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None


def require_roles(*roles: str) -> Callable[[F], F]:
    """Allow callers holding any of `roles`; with no roles, any authenticated caller."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if roles and not principal.has_any(roles):
                raise ProblemError(
                    403,
                    "Forbidden",
                    f"this operation needs one of the roles: {', '.join(sorted(roles))}",
                    required_roles=sorted(roles),
                )
            g.principal = principal
            return view(*args, **kwargs)

        wrapper.required_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
