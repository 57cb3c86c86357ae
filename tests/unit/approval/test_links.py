"""Signed links and page values: what each kind of bad link is refused as."""

from __future__ import annotations

import datetime as dt

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


def test_an_old_token_is_expired() -> None:
    token = SIGNER.token("T-1", "li.si", "n1")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    with refused("expired"):
        SIGNER.read(token, now=later)  # `now` decides, as the service's clock does
    assert SIGNER.read(token, now=later - dt.timedelta(days=2)).task_id == "T-1"


def test_links_follow_the_services_clock() -> None:
    moment = [dt.datetime(2027, 3, 1, tzinfo=dt.UTC)]
    signer = LinkSigner("unit-secret", dt.timedelta(days=7), clock=lambda: moment[0])
    token = signer.token("T-1", "li.si", "n1")
    moment[0] += dt.timedelta(days=6)
    assert signer.read(token).nonce == "n1"
    moment[0] += dt.timedelta(days=2)
    with refused("expired"):
        signer.read(token)


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
