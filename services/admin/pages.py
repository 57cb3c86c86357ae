"""The editor's pages: sign-in, the workflow list, history, diff, audit, and the shells
the browser code (static/dist) fills: the modeler and the instance view."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.orm import Session, sessionmaker

from services.admin import deployments, sign_in
from services.admin.i18n import COOKIE, LANGUAGES, MESSAGES, language, translator
from services.admin.settings import MANAGED_SERVICES, AdminSettings
from services.admin.upstreams import ServiceClient, UpstreamError

# No inline script and no other host: every script, style sheet and font is a file served
# here. Inline style attributes are allowed: bpmn-js and dmn-js position their overlays,
# context pads and table controls with them.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

# Why a sign-in at the provider did not end signed in (`/login?failed=…`): a fixed set of
# messages, never text from the request.
SIGN_IN_FAILURES = {"oidc": "login.oidc_failed", "oidc_unreachable": "login.oidc_unreachable"}


def make_pages_blueprint(
    settings: AdminSettings, client: ServiceClient, sessions: sessionmaker[Session]
) -> Blueprint:
    bp = Blueprint(
        "admin_pages",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/assets",
    )

    @bp.record_once
    def _configure(state: Any) -> None:
        state.app.config.update(
            SECRET_KEY=settings.session_secret,
            SESSION_COOKIE_NAME="contractflow_admin",
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Strict",
            SESSION_COOKIE_SECURE=settings.secure_cookies,
            PERMANENT_SESSION_LIFETIME=settings.session_hours * 3600,
            MAX_CONTENT_LENGTH=4_000_000,
        )

    @bp.after_app_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @bp.app_context_processor
    def _page_context() -> dict[str, Any]:
        lang = language() if request else "zh"
        who = sign_in.principal()
        return {
            "lang": lang,
            "other_lang": "en" if lang == "zh" else "zh",
            "t": translator(lang),
            "who": who,
            "can_deploy": bool(who and sign_in.DEPLOY_ROLE in who.roles),
            "csrf": sign_in.csrf_token(),
            "services": MANAGED_SERVICES,
        }

    @bp.app_errorhandler(403)
    def _forbidden(_exc: Exception) -> Any:
        return render_template("forbidden.html"), 403

    @bp.get("/login")
    def login_form() -> Any:
        failed = SIGN_IN_FAILURES.get(request.args.get("failed", ""))
        return render_template(
            "login.html",
            users=settings.dev_users if settings.dev_login else {},
            dev_login=settings.dev_login,
            next=sign_in.safe_next(request.args.get("next")),
            error=failed,
        ), 401 if failed else 200

    @bp.post("/login")
    def login() -> Any:
        sign_in.check_csrf()
        user = request.form.get("user", "")
        target = sign_in.safe_next(request.form.get("next"))
        if not settings.dev_login or user not in settings.dev_users:
            return render_template(
                "login.html",
                users=settings.dev_users if settings.dev_login else {},
                dev_login=settings.dev_login,
                next=target,
                error="login.unknown" if settings.dev_login else "login.disabled",
            ), 401
        sign_in.sign_in(user, settings.dev_users[user], settings.session_hours)
        return redirect(target)

    @bp.post("/logout")
    def logout() -> Any:
        sign_in.check_csrf()
        sign_in.sign_out()
        return redirect(url_for("admin_pages.login_form"))

    @bp.get("/lang/<code>")
    def switch_language(code: str) -> Any:
        if code not in LANGUAGES:
            abort(404)
        response = make_response(redirect(sign_in.safe_next(request.args.get("next"))))
        response.set_cookie(COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    @bp.get("/")
    def home() -> Any:
        return redirect(url_for("admin_pages.workflows"))

    @bp.get("/workflows")
    @sign_in.admin_page
    def workflows() -> Any:
        listing = []
        for service in MANAGED_SERVICES:
            try:
                found = client.get(service, deployments.DEFINITIONS, sign_in.token())
                listing.append({"service": service, "definitions": found["definitions"]})
            except UpstreamError as exc:
                listing.append({"service": service, "error": str(exc), "definitions": []})
        return render_template("workflows.html", listing=listing)

    @bp.get("/workflows/<service>/edit")
    @sign_in.admin_page
    def editor(service: str) -> Any:
        _known(service)
        return render_template(
            "editor.html",
            service=service,
            file_name=request.args.get("file", ""),
            version=request.args.get("version", type=int),
            messages=MESSAGES[language()],
        )

    @bp.get("/workflows/<service>/history")
    @sign_in.admin_page
    def history(service: str) -> Any:
        _known(service)
        file_name = request.args.get("file", "")
        found = deployments.history(sessions, client, sign_in.token(), service, file_name)
        if found is None:
            abort(404)
        return render_template("history.html", service=service, definition=found)

    @bp.post("/workflows/<service>/rollback")
    @sign_in.admin_page
    def rollback(service: str) -> Any:
        _known(service)
        who = sign_in.principal()
        assert who is not None
        if sign_in.DEPLOY_ROLE not in who.roles:
            abort(403)
        definition_id = request.form.get("definition_id", type=int)
        if definition_id is None:
            abort(400)
        try:
            done = deployments.rollback(
                sessions,
                client,
                sign_in.token(),
                who.user_id,
                service,
                definition_id,
                request.form.get("comment", "")[:2000],
            )
        except UpstreamError as exc:
            return render_template("upstream_error.html", error=exc), exc.status
        return redirect(url_for("admin_pages.history", service=service, file=done["file_name"]))

    @bp.get("/workflows/<service>/diff")
    @sign_in.admin_page
    def diff(service: str) -> Any:
        _known(service)
        older = request.args.get("older", type=int)
        newer = request.args.get("newer", type=int)
        if older is None or newer is None:
            abort(400)
        older, newer = sorted((older, newer))
        result = deployments.diff(client, sign_in.token(), service, older, newer)
        return render_template("diff.html", service=service, diff=result)

    @bp.get("/workflows/<service>/instances")
    @sign_in.admin_page
    def instances(service: str) -> Any:
        _known(service)
        return render_template(
            "instances.html",
            service=service,
            version=request.args.get("version", type=int),
            messages=MESSAGES[language()],
        )

    @bp.get("/audit")
    @sign_in.admin_page
    def audit() -> Any:
        return render_template("audit.html", rows=deployments.recent_audit(sessions))

    return bp


def _known(service: str) -> None:
    if service not in MANAGED_SERVICES:
        abort(404)
