"""Who is signed in to the editor, and what they may do.

The shared JWT is minted at sign-in and kept in Flask's signed session cookie (HttpOnly,
SameSite=Strict), never shown to the page's script; calls to the services carry it as
their Bearer token. Every write also needs the session's anti-forgery token in the
`X-CSRF-Token` header (scripts) or a `csrf` form field (forms).
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

from flask import abort, current_app, redirect, request, session, url_for

from contractflow.auth import Principal, TokenInvalid, TokenService
from contractflow.web import ProblemError

F = TypeVar("F", bound=Callable[..., Any])
ADMIN_ROLES = ("admin", "workflow-admin")
DEPLOY_ROLE = "workflow-admin"


def tokens() -> TokenService:
    tokens: TokenService = current_app.extensions["contractflow.tokens"]
    return tokens


def sign_in(user_id: str, roles: tuple[str, ...], hours: int) -> None:
    session.clear()
    session["token"] = tokens().mint(user_id, roles, dt.timedelta(hours=hours))
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True


def sign_out() -> None:
    session.clear()


def principal() -> Principal | None:
    token = session.get("token")
    if not token:
        return None
    try:
        return tokens().verify(token)
    except TokenInvalid:
        session.pop("token", None)
        return None


def token() -> str:
    return str(session["token"])


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf() -> None:
    """Writes must carry the session's token and come from this origin."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf") or ""
    if not hmac.compare_digest(sent.encode(), csrf_token().encode()):
        raise ProblemError(403, "Forbidden", "missing or wrong anti-forgery token (CSRF)")
    origin = request.headers.get("Origin")
    if origin and urlparse(origin).netloc != request.host:
        raise ProblemError(403, "Forbidden", f"cross-origin write from {origin} refused")


def admin_page(view: F) -> F:
    """A page for `admin` / `workflow-admin`: others are sent to sign in or refused."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = principal()
        if who is None:
            return redirect(url_for("admin_pages.login_form", next=request.full_path))
        if not who.has_any(ADMIN_ROLES):
            abort(403)
        if request.method == "POST":
            check_csrf()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_api(*roles: str) -> Callable[[F], F]:
    """A JSON endpoint of the page: 401 when signed out, 403 without `roles`, CSRF on writes."""
    needed = roles or ADMIN_ROLES

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = principal()
            if who is None:
                raise ProblemError(401, "Sign-in required", "sign in at /login first")
            if not who.has_any(needed):
                raise ProblemError(
                    403,
                    "Forbidden",
                    f"this needs one of the roles: {', '.join(sorted(needed))}",
                    required_roles=sorted(needed),
                )
            if request.method != "GET":
                check_csrf()
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect after sign-in would be a phishing aid."""
    if not target:
        return "/workflows"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/workflows"
    return target
