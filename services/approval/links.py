"""Signed email links and the confirmation page's anti-forgery value (itsdangerous).

A link token names one task, one approver and the task's link nonce, and expires. The
page value is signed with a different salt, names the same task and nonce plus a random
view id that is also set as a strict same-site cookie: only a POST from a page this
server rendered (to this browser) carries both.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

LINK_SALT = "contractflow.approval.link"
PAGE_SALT = "contractflow.approval.page"
PAGE_MAX_AGE = dt.timedelta(hours=2)


class LinkRefused(Exception):
    """Why a link or a page submission decides nothing; `reason` picks the page shown."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkClaims:
    task_id: str
    person_id: str
    nonce: str


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


class LinkSigner:
    def __init__(self, secret: str, max_age: dt.timedelta) -> None:
        self._links = URLSafeTimedSerializer(secret, salt=LINK_SALT)
        self._pages = URLSafeTimedSerializer(secret, salt=PAGE_SALT)
        self.max_age = max_age

    def token(self, task_id: str, person_id: str, nonce: str) -> str:
        return self._links.dumps({"t": task_id, "p": person_id, "n": nonce})

    def read(self, token: str, now: dt.datetime | None = None) -> LinkClaims:
        try:
            claims = self._links.loads(token, max_age=int(self.max_age.total_seconds()))
        except SignatureExpired:
            raise LinkRefused("expired") from None
        except BadSignature:
            raise LinkRefused("forged") from None
        return LinkClaims(claims["t"], claims["p"], claims["n"])

    def page_value(self, claims: LinkClaims, view_id: str) -> str:
        return self._pages.dumps({"t": claims.task_id, "n": claims.nonce, "v": view_id})

    def check_page_value(self, value: str | None, claims: LinkClaims, cookie: str | None) -> None:
        if not value:
            raise LinkRefused("no-page-value")
        try:
            page = self._pages.loads(value, max_age=int(PAGE_MAX_AGE.total_seconds()))
        except SignatureExpired:
            raise LinkRefused("page-expired") from None
        except BadSignature:
            raise LinkRefused("no-page-value", "the page value is not ours") from None
        if page["t"] != claims.task_id or page["n"] != claims.nonce:
            raise LinkRefused("no-page-value", "the page value is for another link")
        if not cookie or not secrets.compare_digest(str(page["v"]), cookie):
            raise LinkRefused("no-page-value", "the page cookie is missing or different")
