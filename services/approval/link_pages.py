"""The email-link pages: GET shows what to decide, only the POST from that page decides.

Mail scanners fetch links (GET, HEAD, repeatedly, from elsewhere) and run scripts, so:
GET and HEAD never change anything; the page has no script and never submits itself;
a POST decides only with the page's signed anti-forgery value and its matching strict
same-site cookie. Every visit and refusal is audited with method, IP and user agent.
These pages carry no JWT: the signed link is the credential.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import Blueprint, Response, make_response, request
from sqlalchemy.orm import Session, sessionmaker

from contractflow.db import unit_of_work
from contractflow.mail import MailTemplates
from contractflow.web import api_doc
from contractflow.workflow import InstanceConflict, TaskNotOpen
from services.approval.decisions import Decider, Origin, audit, open_task_for
from services.approval.links import LinkRefused, LinkSigner
from services.approval.mails import ApprovalMails
from services.approval.models import ApprovalTask, Approver
from services.approval.request_details import request_details
from services.approval.schemas import LinkQuery

COOKIE = "approval_view"
REFUSAL_STATUS = {
    "expired": 410,
    "forged": 400,
    "used": 409,
    "superseded": 409,
    "other-approver": 403,
    "no-page-value": 403,
    "page-expired": 403,
    "bad-decision": 400,
    "withdrawn": 409,
}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}


def _origin() -> Origin:
    return Origin("email-link", request.method, request.remote_addr, request.user_agent.string)


def _browser_language() -> str:
    return request.accept_languages.best_match(["zh", "en"]) or "zh"


def make_blueprint(
    sessions: sessionmaker[Session],
    links: LinkSigner,
    templates: MailTemplates,
    mails: ApprovalMails,
    decider: Decider,
    clock: Callable,
) -> Blueprint:
    bp = Blueprint("approval_links", __name__)

    def page(html: str, status: int = 200) -> Response:
        response = make_response(html, status)
        response.headers.update(SECURITY_HEADERS)
        response.mimetype = "text/html"
        return response

    def refused(session: Session, exc: LinkRefused, task_id: str) -> Response:
        audit(session, _origin(), clock(), "refused", str(exc), task_id=task_id)
        html = templates.page("link_problem", _browser_language(), reason=exc.reason)
        return page(html, REFUSAL_STATUS.get(exc.reason, 400))

    @bp.get("/approval/links/<task_id>")
    @api_doc(
        "HTML: the confirmation page of an email link (decides nothing)", query=LinkQuery, html=True
    )
    def show(task_id: str) -> Response:
        with unit_of_work(sessions) as session:
            try:
                claims = links.read(request.args.get("token", ""), clock())
                opened = open_task_for(session, task_id, claims)
                task, approver = opened.task, opened.approver
                if approver is None:
                    raise LinkRefused("superseded", f"{task.person_id} left the directory")
            except LinkRefused as exc:
                return refused(session, exc, task_id)
            view_id = secrets.token_urlsafe(16)
            context = mails.context(session, task, approver)
            html = templates.page(
                "link_page",
                approver.language,
                page_value=links.page_value(claims, view_id),
                action=request.full_path,
                **context,
            )
            audit(session, _origin(), clock(), "viewed", "confirmation page shown", task)
        response = page(html)
        response.set_cookie(
            COOKIE,
            view_id,
            path=f"/approval/links/{task_id}",
            httponly=True,
            samesite="Strict",
            secure=request.is_secure,
            max_age=7200,
        )
        return response

    @bp.get("/approval/links/<task_id>/details")
    @api_doc(
        "HTML: the request's details for the approver of the signed link",
        query=LinkQuery,
        html=True,
    )
    def details(task_id: str) -> Response:
        """Read-only: any state of the task (decided, withdrawn, superseded) may be viewed
        with a link that was issued for it and has not expired."""
        with unit_of_work(sessions) as session:
            try:
                claims = links.read(request.args.get("token", ""), clock())
                task = session.get(ApprovalTask, task_id)
                if claims.task_id != task_id or task is None:
                    raise LinkRefused("other-approver", "the link was issued for another task")
                approver = session.get(Approver, claims.person_id)
                if approver is None:
                    raise LinkRefused("superseded", f"{claims.person_id} left the directory")
            except LinkRefused as exc:
                return refused(session, exc, task_id)
            html = templates.page(
                "link_details", approver.language, **request_details(session, mails, task, approver)
            )
            audit(session, _origin(), clock(), "viewed", "details page shown", task)
        return page(html)

    @bp.post("/approval/links/<task_id>")
    @api_doc(
        "HTML form post of the confirmation page (page value + cookie): decides",
        query=LinkQuery,
        html=True,
    )
    def decide(task_id: str) -> Response:
        try:
            return decide_once(task_id)
        except (TaskNotOpen, InstanceConflict) as exc:
            # Two clicks raced (or the level closed meanwhile): the loser changes nothing.
            with unit_of_work(sessions) as session:
                return refused(session, LinkRefused("superseded", str(exc)), task_id)

    def decide_once(task_id: str) -> Response:
        with unit_of_work(sessions) as session:
            try:
                claims = links.read(request.args.get("token", ""), clock())
                opened = open_task_for(session, task_id, claims)
                task = opened.task
                links.check_page_value(
                    request.form.get("page_value"), claims, request.cookies.get(COOKIE)
                )
                decision = request.form.get("decision", "")
                if decision not in ("approved", "rejected"):
                    raise LinkRefused("bad-decision", f"decision {decision!r}")
            except LinkRefused as exc:
                return refused(session, exc, task_id)
            comment = request.form.get("comment", "").strip()[:4000]
            decider.decide(session, task, decision, comment, _origin())
            approver = opened.approver
            html = templates.page(
                "link_done", approver.language if approver else None, decision=decision
            )
        response = page(html)
        response.delete_cookie(COOKIE, path=f"/approval/links/{task_id}")
        return response

    return bp
