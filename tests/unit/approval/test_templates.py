"""Emails and pages in Chinese and English; what people typed is escaped in HTML."""

from __future__ import annotations

from types import SimpleNamespace

from contractflow.mail import MailTemplates
from services.approval.bootstrap import TEMPLATES

TEMPLATES_ = MailTemplates(TEMPLATES)


def context(language: str) -> dict:
    request = SimpleNamespace(
        contract_id="C-1",
        currency="CNY",
        risk="high",
        requester="zhang.san",
        summary="<script>alert(1)</script> 变更",
        subject_url="http://x/c/C-1",
    )
    return {
        "approver": SimpleNamespace(name="Li Si", language=language),
        "task": SimpleNamespace(level=2, reminders_sent=1),
        "request": request,
        # As ApprovalMails writes them for the reader's language (mails.texts_for).
        "summary": request.summary,
        "risk_name": {"zh": "高"}.get(language, "high"),
        "kind_name": "change",
        "contract_title": "OA 运维",
        "provider": "云杉软件",
        "reason": "业务需要",
        "changes": ["增加模块 modules added: CRM"],
        "amount": "5,400.00",
        "on_behalf_of_name": None,
        "escalated_from_name": "Wang Wu",
        "link": "http://approval.test/approval/links/T-1?token=abc",
        "details_link": "http://approval.test/approval/links/T-1/details?token=abc",
        "requester_name": "Zhang San",
    }


def test_both_languages_render_every_mail() -> None:
    for name in ("approval_request", "approval_reminder"):
        zh = TEMPLATES_.render(name, "zh", **context("zh"))
        en = TEMPLATES_.render(name, "en", **context("en"))
        assert "审批" in zh.subject or "提醒" in zh.subject
        assert "approval" in en.subject.lower() or "reminder" in en.subject.lower()
        for mail in (zh, en):
            assert "token=abc" in mail.text and "token=abc" in mail.html
            assert "CRM" in mail.text and "Wang Wu" in mail.text
            # the requester by name, the details as a page a browser opens (no sign-in)
            assert "Zhang San" in mail.text and "zhang.san" not in mail.text
            assert "/details?token=abc" in mail.text and "/details?token=abc" in mail.html
            assert "http://x/c/C-1" not in mail.text


def test_html_escapes_what_people_typed_and_unknown_languages_fall_back_to_chinese() -> None:
    mail = TEMPLATES_.render("approval_request", "fr", **context("fr"))
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "您好" in mail.text


def test_problem_pages_explain_in_both_languages() -> None:
    reasons = ("expired", "forged", "used", "superseded", "other-approver", "no-page-value")
    for reason in (*reasons, "withdrawn"):
        html = TEMPLATES_.page("link_problem", "en", reason=reason)
        assert "This link cannot be used" in html and "无法处理此链接" in html


def test_a_withdrawn_request_is_called_withdrawn() -> None:
    for language in ("zh", "en"):
        html = TEMPLATES_.page("link_problem", language, reason="withdrawn")
        assert "withdrawn" in html and "已撤回" in html
        assert "decided by others" not in html
