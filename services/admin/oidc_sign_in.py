"""Sign-in through the company's OpenID Connect provider, where `ADMIN_OIDC_*` is set.

Authorization code flow with PKCE (S256) and a nonce, done by Authlib: it builds the
authorization request, exchanges the code (with the verifier) and validates the ID token
(signature against the provider's JWKS, issuer, audience, expiry, nonce). A claim of the
ID token (or of the userinfo answer) names the person's groups; `ADMIN_OIDC_ROLE_MAP`
maps them to the platform's roles, and the shared JWT is then issued exactly as the
development sign-in issues it.

The flow's state (state, verifier, nonce, where to go next) is kept in a signed cookie of
its own, `SameSite=Lax` and only for `/login/oidc`: the session cookie is `Strict`, and a
browser does not send a Strict cookie when the provider redirects back from its own site.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, redirect, request, session, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from contractflow.config import ConfigError
from services.admin import sign_in
from services.admin.pages import CSP

log = logging.getLogger(__name__)
FLOW_COOKIE = "contractflow_admin_oidc"
FLOW_PATH = "/login/oidc"
FLOW_MAX_AGE_S = 600  # a person who takes longer at the provider starts again
ID_TOKEN = "oidc_id_token"  # kept in the session for the sign-out at the provider


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str = ""
    scopes: str = "openid profile email"
    roles_claim: str = "roles"
    # provider group -> platform roles; empty: the claim's values are the roles.
    role_map: dict[str, tuple[str, ...]] = field(default_factory=dict)
    user_claim: str = "preferred_username"
    label: str = "OpenID Connect"
    redirect_uri: str = ""  # when the editor is behind a proxy that hides its address

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OidcSettings | None:
        """None when OIDC is not configured (no `ADMIN_OIDC_ISSUER`)."""
        env = os.environ if env is None else env
        issuer = (env.get("ADMIN_OIDC_ISSUER") or "").strip().rstrip("/")
        client_id = (env.get("ADMIN_OIDC_CLIENT_ID") or "").strip()
        if not issuer and not client_id:
            return None
        if not issuer or not client_id:
            raise ConfigError("ADMIN_OIDC_ISSUER and ADMIN_OIDC_CLIENT_ID are set together")
        return cls(
            issuer=issuer,
            client_id=client_id,
            client_secret=env.get("ADMIN_OIDC_CLIENT_SECRET") or "",
            scopes=env.get("ADMIN_OIDC_SCOPES") or cls.scopes,
            roles_claim=env.get("ADMIN_OIDC_ROLES_CLAIM") or cls.roles_claim,
            role_map=parse_role_map(env.get("ADMIN_OIDC_ROLE_MAP") or ""),
            user_claim=env.get("ADMIN_OIDC_USER_CLAIM") or cls.user_claim,
            label=env.get("ADMIN_OIDC_LABEL") or cls.label,
            redirect_uri=env.get("ADMIN_OIDC_REDIRECT_URI") or "",
        )


def parse_role_map(raw: str) -> dict[str, tuple[str, ...]]:
    """`group=role+role,group=role`: which platform roles each provider group gives."""
    mapping: dict[str, tuple[str, ...]] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        group, sep, roles = item.partition("=")
        if not sep or not group.strip() or not roles.strip():
            raise ConfigError(f"ADMIN_OIDC_ROLE_MAP: {item!r} is not group=role+role")
        mapping[group.strip()] = tuple(r.strip() for r in roles.split("+") if r.strip())
    return mapping


def roles_from_claims(claims: Mapping[str, Any], settings: OidcSettings) -> tuple[str, ...]:
    """The platform roles the provider's claim gives: the claim may be a list or a
    space/comma separated string, and a dotted name reaches into an object
    (`realm_access.roles`)."""
    value: Any = claims
    for part in settings.roles_claim.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        groups = value.replace(",", " ").split()
    elif isinstance(value, list | tuple):
        groups = [str(v) for v in value]
    else:
        groups = []
    if not settings.role_map:
        return tuple(sorted(set(groups)))
    return tuple(sorted({role for g in groups for role in settings.role_map.get(g, ())}))


def user_of(claims: Mapping[str, Any], settings: OidcSettings) -> str:
    for name in (settings.user_claim, "preferred_username", "email", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    raise OAuthError(description="the ID token names no user (no sub)")


def has_roles_claim(claims: Mapping[str, Any], settings: OidcSettings) -> bool:
    return settings.roles_claim.split(".")[0] in claims


def make_oidc_blueprint(
    settings: OidcSettings, session_secret: str, session_hours: int
) -> Blueprint:
    bp = Blueprint("admin_oidc", __name__)
    oauth = OAuth()
    flow = URLSafeTimedSerializer(session_secret, salt="admin-oidc-flow")

    @bp.record_once
    def _configure(state: Any) -> None:
        oauth.init_app(state.app)
        oauth.register(
            "provider",
            client_id=settings.client_id,
            client_secret=settings.client_secret or None,
            server_metadata_url=f"{settings.issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.scopes,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": (
                    "client_secret_basic" if settings.client_secret else "none"
                ),
            },
        )

    @bp.app_context_processor
    def _login_choices() -> dict[str, Any]:
        # Signed in at the provider: signing out here signs out there too.
        signed_at_provider = bool(session.get(ID_TOKEN))
        return {
            "oidc_label": settings.label,
            "sign_out_action": f"{FLOW_PATH}/logout" if signed_at_provider else "/logout",
        }

    # A form's redirects are held to CSP form-action too: the sign-out form ends at the
    # provider's end-session page, on the issuer's origin.
    issuer = urlparse(settings.issuer)
    csp = CSP.replace("form-action 'self'", f"form-action 'self' {issuer.scheme}://{issuer.netloc}")

    @bp.after_app_request
    def _allow_sign_out_at_provider(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        return response

    @bp.get(FLOW_PATH)
    def start() -> Any:
        provider = oauth.create_client("provider")
        callback = settings.redirect_uri or url_for("admin_oidc.callback", _external=True)
        try:
            authorization = provider.create_authorization_url(callback)
        except Exception:  # the provider is down or its discovery document is broken
            log.exception("OIDC: cannot reach the provider at %s", settings.issuer)
            return redirect(url_for("admin_pages.login_form", failed="oidc_unreachable"))
        response = redirect(authorization["url"])
        kept = {k: authorization.get(k) for k in ("state", "code_verifier", "nonce")}
        kept.update(redirect_uri=callback, next=request.args.get("next") or "/workflows")
        response.set_cookie(
            FLOW_COOKIE,
            flow.dumps(kept),
            max_age=FLOW_MAX_AGE_S,
            path=FLOW_PATH,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
        return response

    @bp.get(f"{FLOW_PATH}/callback")
    def callback() -> Any:
        try:
            kept = flow.loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_MAX_AGE_S)
        except BadSignature:
            kept = None
        try:
            user, roles, id_token = _finish(oauth, settings, kept)
        except OAuthError as exc:
            log.warning("OIDC sign-in refused: %s", exc)
            return _done(redirect(url_for("admin_pages.login_form", failed="oidc")))
        sign_in.sign_in(user, roles, session_hours)
        session[ID_TOKEN] = id_token
        log.info("OIDC sign-in of %s with roles %s", user, ",".join(roles) or "(none)")
        assert kept is not None
        return _done(redirect(sign_in.safe_next(kept.get("next"))))

    @bp.post(f"{FLOW_PATH}/logout")
    def logout() -> Any:
        """Sign out here, then at the provider (RP-initiated logout), back to /login."""
        sign_in.check_csrf()
        id_token = session.get(ID_TOKEN)
        sign_in.sign_out()
        back = url_for("admin_pages.login_form", _external=True)
        try:
            ending = oauth.create_client("provider").create_logout_url(
                post_logout_redirect_uri=back,
                id_token_hint=id_token,
                client_id=settings.client_id,
            )
        except Exception:  # no end_session_endpoint, or the provider is not reachable
            log.warning("OIDC: no sign-out at %s; signed out here only", settings.issuer)
            return redirect(back)
        return redirect(ending["url"])

    return bp


def _finish(
    oauth: OAuth, settings: OidcSettings, kept: dict[str, Any] | None
) -> tuple[str, tuple[str, ...], str]:
    """The signed-in user, roles and ID token, or OAuthError saying why not."""
    if request.args.get("error"):
        raise OAuthError(
            error=request.args["error"], description=request.args.get("error_description")
        )
    state = request.args.get("state") or ""
    if not kept or not hmac.compare_digest(state.encode(), str(kept.get("state")).encode()):
        raise OAuthError(description="state does not match this browser's sign-in")
    provider = oauth.create_client("provider")
    try:
        token = provider.fetch_access_token(
            redirect_uri=kept["redirect_uri"],
            code=request.args.get("code") or "",
            code_verifier=kept["code_verifier"],
        )
        if "id_token" not in token:
            raise OAuthError(description="the provider's token answer has no ID token")
        claims = dict(provider.parse_id_token(token, nonce=kept["nonce"]))
        if not has_roles_claim(claims, settings):
            claims.update(provider.userinfo(token=token))
    except OAuthError:
        raise
    except Exception as exc:  # the token endpoint refused, or the ID token is not valid
        raise OAuthError(description=f"{type(exc).__name__}: {exc}") from exc
    return user_of(claims, settings), roles_from_claims(claims, settings), token["id_token"]


def _done(response: Response) -> Response:
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response
