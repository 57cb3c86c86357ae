"""Signed links and page values: what each kind of bad link is refused as."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from services.approval.links import LinkClaims, LinkRefused, LinkSigner

SIGNER = LinkSigner("unit-secret", dt.timedelta(days=7))


def refused(reason: str):
    return pytest.raises(LinkRefused, match=reason)


def test_a_token_names_its_task_approver_and_nonce() -> None:
    token = SIGNER.token("T-1", "li.si", "n1")
    assert SIGNER.read(token) == LinkClaims("T-1", "li.si", "n1")


def test_tampered_or_foreign_tokens_are_forged() -> None:
    token = SIGNER.token("T-1", "li.si", "n1")
    with refused("forged"):
        SIGNER.read(token[:-2] + ("xx" if not token.endswith("xx") else "yy"))
    with refused("forged"):
        LinkSigner("another-secret", dt.timedelta(days=7)).read(token)
    with refused("forged"):
        SIGNER.read("")


def test_an_old_token_is_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    token = SIGNER.token("T-1", "li.si", "n1")
    later = time.time() + dt.timedelta(days=8).total_seconds()
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    with refused("expired"):
        SIGNER.read(token)


def test_the_page_value_is_bound_to_task_nonce_and_cookie() -> None:
    claims = LinkClaims("T-1", "li.si", "n1")
    value = SIGNER.page_value(claims, "view-1")
    SIGNER.check_page_value(value, claims, "view-1")
    with refused("no-page-value"):
        SIGNER.check_page_value(None, claims, "view-1")
    with refused("no-page-value"):
        SIGNER.check_page_value(value, claims, None)  # a scanner without the page's cookie
    with refused("no-page-value"):
        SIGNER.check_page_value(value, claims, "view-2")
    with refused("no-page-value"):
        SIGNER.check_page_value(value, LinkClaims("T-2", "li.si", "n1"), "view-1")
    with refused("no-page-value"):
        SIGNER.check_page_value(SIGNER.token("T-1", "li.si", "n1"), claims, "view-1")
