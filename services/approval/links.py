"""Signed email links and the confirmation page's anti-forgery value (itsdangerous).

A link token names one task, one approver and the task's link nonce, and expires. The
page value is signed with a different salt, names the same task and nonce plus a random
view id that is also set as a strict same-site cookie: only a POST from a page this
server rendered (to this browser) carries both.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

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
    """Signs and reads links on the service's clock: when a link was issued and whether it
    has expired follow the same time as the workflow that sent it. The page value follows
    the wall clock: how long a rendered page stays usable is the browser's session, like
    an access token, and must not shrink to nothing under an accelerated business clock."""

    def __init__(
        self,
        secret: str,
        max_age: dt.timedelta,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        class ClockSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock().timestamp())

        self._links = URLSafeTimedSerializer(secret, salt=LINK_SALT, signer=ClockSigner)
        self._pages = URLSafeTimedSerializer(secret, salt=PAGE_SALT)
        self.max_age = max_age
        self.clock = clock

    def token(self, task_id: str, person_id: str, nonce: str) -> str:
        return self._links.dumps({"t": task_id, "p": person_id, "n": nonce})

    def read(self, token: str, now: dt.datetime | None = None) -> LinkClaims:
        """The link's claims, if it is ours and younger than `max_age` at `now` (the
        service's clock, so a test or a fake clock decides when a link expires)."""
        try:
            claims, signed_at = self._links.loads(token, return_timestamp=True)
        except BadSignature:
            raise LinkRefused("forged") from None
        if (now or self.clock()) - signed_at > self.max_age:
            raise LinkRefused("expired")
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
