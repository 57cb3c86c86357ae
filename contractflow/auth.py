"""Bearer JWT authentication: who is calling and which roles they hold.

Tokens are HS256 JWTs signed with JWT_SECRET, carrying `sub` (user id) and `roles`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class TokenService:
    secret: str
    issuer: str

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
        return Principal(user_id=str(claims["sub"]), roles=frozenset(roles))


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
