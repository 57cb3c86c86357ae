"""The service's validation and deploy problems in the administrator's language: the
service sends a code and parameters with each problem, the page words it in Chinese or
English, on the element and in the list."""

from __future__ import annotations

import pytest

from .conftest import sign_in
from .test_admin_editor import PRE_SIGNING, latest, open_editor

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def break_form_key(page) -> None:  # type: ignore[no-untyped-def]
    xml = page.evaluate("() => window.contractflowEditor.exportXML()")
    broken = xml.replace('value="requirement"', 'value="no_such_form"', 1)
    assert broken != xml
    page.evaluate("xml => window.contractflowEditor.importXML(xml)", broken)


@pytest.mark.parametrize(
    ("lang", "problem", "refused"),
    [
        ("zh", "表单 'no_such_form' 未在本服务注册", "服务拒绝了此版本：无法部署。"),
        ("en", "form 'no_such_form' is not registered", "cannot be deployed"),
    ],
)
def test_problems_are_worded_in_the_admins_language(
    page, stack, screenshots, lang, problem, refused
):
    sign_in(page, "ada")
    page.wait_for_url("**/workflows")
    page.goto(f"/lang/{lang}?next=/workflows")
    open_editor(page, stack, "negotiation", PRE_SIGNING)
    break_form_key(page)

    page.click("#validate")
    page.wait_for_selector("#status.bad")
    listed = page.locator("#problems li[data-element-id='define_requirement']")
    assert problem in listed.inner_text()
    note = page.locator("g.djs-element.cf-error[data-element-id='define_requirement']")
    assert note.count() == 1
    assert page.locator(".cf-error-note", has_text=problem).is_visible()
    page.screenshot(path=str(screenshots / f"editor-problem-{lang}.png"))

    versions = latest(stack, "negotiation", PRE_SIGNING)["latest"]
    page.click("#deploy")
    page.wait_for_selector(f"#status.bad:has-text('{refused}')")
    assert problem in page.locator("#problems li").first.inner_text()
    assert latest(stack, "negotiation", PRE_SIGNING)["latest"] == versions
