"""Email-link attacks decide nothing: prefetch (GET, HEAD), POST without the page's value,
replay, expiry, tampering, another approver's link. Over real SMTP and real Kafka."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.conftest import both_databases
from tests.integration.approval.support import ApprovalWorld, link_in

pytestmark = [both_databases, pytest.mark.kafka]


def task_status(world: ApprovalWorld, person: str) -> list[str]:
    from sqlalchemy import select

    from services.approval.models import ApprovalTask

    with world.kernel.sessions() as session:
        rows = session.scalars(select(ApprovalTask).where(ApprovalTask.person_id == person))
        return [r.status for r in rows]


def page_value(response) -> str:
    match = re.search(r'name="page_value" value="([^"]+)"', response.get_data(as_text=True))
    assert match
    return match.group(1)


def test_prefetch_by_get_and_head_and_a_bare_post_decide_nothing(world: ApprovalWorld) -> None:
    world.request_approval("50000.00")
    link = link_in(world.mails_to("li.si")[0])
    for ip in ("203.0.113.5", "198.51.100.7", "192.0.2.9"):  # scanners from elsewhere
        for method in ("GET", "HEAD", "GET"):
            response = world.open_link(link, method, environ_base={"REMOTE_ADDR": ip})
            assert response.status_code == 200
    page = world.open_link(link)
    html = page.get_data(as_text=True)
    assert (
        "<script" not in html.lower()
        and "script-src" not in page.headers["Content-Security-Policy"]
    )
    assert page.headers["Cache-Control"] == "no-store"
    # A POST without the page's value, with a forged one, or without the page's cookie.
    assert world.open_link(link, "POST", data={"decision": "approved"}).status_code == 403
    bad = {"decision": "approved", "page_value": "forged.value"}
    assert world.open_link(link, "POST", data=bad).status_code == 403
    value = page_value(page)
    world.client.delete_cookie(
        "approval_view", path=link.split("?")[0].removeprefix("http://approval.test")
    )
    no_cookie = world.open_link(link, "POST", data={"decision": "approved", "page_value": value})
    assert no_cookie.status_code == 403
    world.pump()
    assert task_status(world, "li.si") == ["open"]
    assert world.outbox_events("approval.decided.v1") == []
    # The approver's own click still works afterwards, and everything was audited.
    assert world.decide(link, "approved").status_code == 200
    assert task_status(world, "li.si") == ["decided"]
    task_id = link.split("/links/")[1].split("?")[0]
    audit = world.client.get(
        f"/approval/tasks/{task_id}/audit", headers=world.token("admin", "approval-admin")
    ).get_json()["audit"]
    actions = [(a["action"], a["method"]) for a in audit]
    assert actions.count(("viewed", "GET")) >= 7 and ("viewed", "HEAD") in actions
    assert actions.count(("refused", "POST")) == 3 and actions[-1] == ("decided", "POST")
    assert audit[-1]["ip"] == "10.1.2.3" and "test-browser" in audit[-1]["user_agent"]
    assert {a["ip"] for a in audit} >= {"203.0.113.5", "198.51.100.7"}


def test_a_used_link_cannot_be_replayed(world: ApprovalWorld) -> None:
    request_id = world.request_approval("200000.00")
    link = link_in(world.mails_to("li.si")[0])
    page = world.open_link(link)
    value = page_value(page)
    assert world.decide(link, "approved").status_code == 200
    replay_get = world.open_link(link)
    assert replay_get.status_code == 409 and "already used" in replay_get.get_data(as_text=True)
    replay_post = world.open_link(link, "POST", data={"decision": "rejected", "page_value": value})
    assert replay_post.status_code == 409
    world.approve_by_mail("fd")
    decided = world.decided(request_id)
    assert [d["decision"] for d in decided["decisions"]] == ["approved", "approved"]


def test_an_expired_link_shows_a_page_and_changes_nothing(world: ApprovalWorld) -> None:
    world.request_approval("50000.00")
    link = link_in(world.mails_to("li.si")[0])
    max_age = world.web_kernel.extensions["approval.links"].max_age
    world.now += max_age + dt.timedelta(seconds=1)  # the service's clock, not a sleep
    response = world.open_link(link)
    assert response.status_code == 410
    body = response.get_data(as_text=True)
    assert "已过期" in body and "expired" in body
    assert world.open_link(link, "POST", data={"decision": "approved"}).status_code == 410
    assert task_status(world, "li.si") == ["open"]


def test_a_tampered_token_is_refused(world: ApprovalWorld) -> None:
    world.request_approval("50000.00")
    link = link_in(world.mails_to("li.si")[0])
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    response = world.open_link(tampered)
    assert response.status_code == 400 and "signature" in response.get_data(as_text=True)
    assert world.open_link(tampered, "POST", data={"decision": "approved"}).status_code == 400
    assert task_status(world, "li.si") == ["open"]


def test_another_approvers_link_cannot_decide_my_task(world: ApprovalWorld) -> None:
    world.request_approval("600000.00", risk="high")
    world.approve_by_mail("li.si")
    world.approve_by_mail("fd")
    gm_link, legal_link = link_in(world.mails_to("gm")[0]), link_in(world.mails_to("legal")[0])
    gm_path = gm_link.split("?")[0]
    legal_token = legal_link.split("?")[1]
    crossed = f"{gm_path}?{legal_token}"
    assert world.open_link(crossed).status_code == 403
    page = world.open_link(legal_link)
    value = page_value(page)
    assert (
        world.open_link(
            crossed, "POST", data={"decision": "rejected", "page_value": value}
        ).status_code
        == 403
    )
    assert task_status(world, "gm") == ["open"] and task_status(world, "legal") == ["open"]
