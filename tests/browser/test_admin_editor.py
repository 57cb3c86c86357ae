"""An administrator's day in the admin editor, in headless chromium against the real
services: sign in, open a workflow, change a label, validate, see a refused model's
markers, deploy, roll back, diff, the audit, the instance view, and who is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from lxml import etree

from .conftest import sign_in
from .stack import Stack, wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PRE_SIGNING = "negotiation/pre_signing.bpmn"
ROUTING = "decisions/approval_routing.dmn"
# The OMG BPMN MIWG reference models, next to the checkout (../shared/corpora/miwg).
CHECKOUT = Path(__file__).resolve().parents[2]
MIWG = Path(os.environ.get("MIWG_CORPUS") or CHECKOUT.parent / "shared" / "corpora" / "miwg")
MIWG_MODELS = sorted(p.name for p in MIWG.glob("*.bpmn")) or ["(no models found)"]
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def latest(stack: Stack, service: str, file_name: str) -> dict:
    listing = stack.api(service, "GET", "/workflow/definitions", "admin")
    return next(d for d in listing["definitions"] if d["file_name"] == file_name)


def open_editor(page, stack: Stack, service: str, file_name: str) -> None:  # type: ignore[no-untyped-def]
    version = latest(stack, service, file_name)["versions"][0]["id"]
    # Generous: the bundle (1.2 MB) is parsed on two cores shared with every process.
    page.goto(f"/workflows/{service}/edit?file={file_name}&version={version}", timeout=90_000)
    page.wait_for_selector("#editor-app[data-loaded=true]", timeout=30_000)


def test_a_workflow_admin_edits_validates_deploys_and_rolls_back(page, stack, screenshots):
    sign_in(page, "ada")
    page.wait_for_url("**/workflows")
    row = page.locator(f"#service-negotiation tr[data-file='{PRE_SIGNING}']")
    assert row.locator(".version").count() == latest(stack, "negotiation", PRE_SIGNING)["latest"]
    page.screenshot(path=str(screenshots / "workflows.png"), full_page=True)
    before = latest(stack, "negotiation", PRE_SIGNING)
    old = stack.api(
        "negotiation",
        "POST",
        "/workflow/instances",
        json={"process_id": "pre_signing", "contract_id": "C-OLD", "variables": {}},
    )

    row.locator("a", has_text="Open").click()
    page.wait_for_selector("#editor-app[data-loaded=true]", timeout=30_000)
    # bpmnlint runs in the page as the model is edited (its button shows the issue count).
    page.wait_for_selector(".bjsl-button", timeout=10_000)

    # Change a label the way a person does: double-click, type, click away.
    task = page.locator("g.djs-element[data-element-id='define_requirement']")
    task.dblclick()
    editor = page.locator(".djs-direct-editing-parent")
    editor.wait_for()
    page.keyboard.press("Control+A")
    page.keyboard.type("Define the need and its budget")
    page.mouse.click(900, 700)
    page.click("#validate")
    page.wait_for_selector("#status.good")
    assert page.locator("#problems li").count() == 0

    page.fill("#comment", "Clearer first task label")
    page.click("#deploy")
    page.wait_for_selector("#status.good:has-text('Deployed as version')")
    after = latest(stack, "negotiation", PRE_SIGNING)
    assert after["latest"] == before["latest"] + 1
    v_new = after["versions"][0]
    content = stack.api("negotiation", "GET", f"/workflow/definitions/{v_new['id']}", "admin")
    assert 'name="Define the need and its budget"' in content["content"]
    assert v_new["deployed_by"] == "ada"

    # Running instances stay on their version; new ones start on the new one.
    new = stack.api(
        "negotiation",
        "POST",
        "/workflow/instances",
        json={"process_id": "pre_signing", "contract_id": "C-NEW", "variables": {}},
    )
    assert old["definition_id"] == before["versions"][0]["id"]
    assert new["definition_id"] == v_new["id"]

    # History: who, when, comment; a diff; a rollback is a new version equal to the old.
    page.goto(f"/workflows/negotiation/history?file={PRE_SIGNING}")
    newest = page.locator(f"tr[data-sequence='{v_new['sequence']}']")
    assert "ada" in newest.inner_text() and "Clearer first task label" in newest.inner_text()
    page.click("form[action$='/diff'] button[type=submit]")
    page.wait_for_selector("pre.diff")
    assert page.locator("pre.diff .add", has_text="Define the need and its budget").count() == 1
    page.screenshot(path=str(screenshots / "diff.png"), full_page=True)

    page.goto(f"/workflows/negotiation/history?file={PRE_SIGNING}")
    first = before["versions"][0]["sequence"]
    rollback = page.locator(f"form.rollback[data-sequence='{first}']")
    rollback.locator("input[name=comment]").fill("Back to the reviewed wording")
    rollback.locator("button").click()
    page.wait_for_selector(f"tr[data-sequence='{v_new['sequence'] + 1}']")
    rolled = latest(stack, "negotiation", PRE_SIGNING)["versions"][0]
    restored = stack.api("negotiation", "GET", f"/workflow/definitions/{rolled['id']}", "admin")
    original = stack.api(
        "negotiation", "GET", f"/workflow/definitions/{before['versions'][0]['id']}", "admin"
    )
    assert restored["content"] == original["content"]
    assert "rollback to v" in page.locator(f"tr[data-sequence='{rolled['sequence']}']").inner_text()
    page.screenshot(path=str(screenshots / "history.png"), full_page=True)

    page.goto("/audit")
    audit = page.locator("table.audit tbody tr")
    assert "rollback" in audit.nth(0).inner_text() and "deployed" in audit.nth(0).inner_text()
    assert "Clearer first task label" in audit.nth(1).inner_text()


def test_the_servers_problems_are_marked_on_their_elements(page, stack, screenshots):
    sign_in(page, "ada")
    open_editor(page, stack, "negotiation", PRE_SIGNING)
    xml = page.evaluate("() => window.contractflowEditor.exportXML()")
    broken = xml.replace('value="requirement"', 'value="no_such_form"', 1)
    assert broken != xml
    page.evaluate("xml => window.contractflowEditor.importXML(xml)", broken)
    page.click("#validate")
    page.wait_for_selector("#status.bad")
    problem = page.locator("#problems li[data-element-id='define_requirement']")
    assert "form 'no_such_form' is not registered" in problem.inner_text()
    marked = page.locator("g.djs-element.cf-error")
    assert marked.count() == 1
    assert marked.get_attribute("data-element-id") == "define_requirement"
    assert page.locator(".cf-error-note", has_text="no_such_form").is_visible()
    page.screenshot(path=str(screenshots / "editor-problem.png"))

    versions = latest(stack, "negotiation", PRE_SIGNING)["latest"]
    page.click("#deploy")
    page.wait_for_selector("#status.bad:has-text('cannot be deployed')")
    assert page.locator("g.djs-element.cf-error").count() == 1
    assert latest(stack, "negotiation", PRE_SIGNING)["latest"] == versions
    page.goto("/audit")
    assert "refused" in page.locator("table.audit tbody tr").nth(0).inner_text()


def test_the_properties_panel_edits_what_the_runtime_reads(page, stack):
    sign_in(page, "ada")
    open_editor(page, stack, "negotiation", PRE_SIGNING)
    page.click("g.djs-element[data-element-id='define_requirement']")
    assert page.locator("input[data-prop=formKey]").input_value() == "requirement"
    page.fill("input[data-prop=candidateRole]", "buyer")
    page.fill("input[data-prop=formKey]", "no_such_form")
    page.press("input[data-prop=formKey]", "Tab")
    xml = page.evaluate("() => window.contractflowEditor.exportXML()")
    root = etree.fromstring(xml.encode())
    task = root.find(f".//{{{BPMN_NS}}}userTask[@id='define_requirement']")
    properties = {
        p.get("name"): p.get("value")
        for p in task.iter("{*}property")  # type: ignore[union-attr]
    }
    assert properties["candidateRole"] == "buyer" and properties["formKey"] == "no_such_form"
    page.click("#validate")
    page.wait_for_selector("#status.bad")
    assert page.locator("g.djs-element.cf-error").get_attribute("data-element-id") == (
        "define_requirement"
    )


def test_the_instance_view_counts_what_the_api_counts(page, stack, screenshots):
    version = latest(stack, "approval", "approval/change_request.bpmn")["versions"][0]
    started = [
        stack.api(
            "approval",
            "POST",
            "/workflow/instances",
            json={
                "process_id": version["provides"][0],
                "contract_id": f"C-IV-{n}",
                "variables": {},
            },
        )
        for n in range(2)
    ]
    activity = stack.api(
        "approval", "GET", f"/workflow/definitions/{version['id']}/activity", "admin"
    )["elements"]
    assert activity, f"instances {started} wait nowhere"
    sign_in(page, "ada")
    page.goto(f"/workflows/approval/instances?version={version['id']}")
    page.wait_for_selector("#instances-app[data-loaded=true]", timeout=30_000)
    for element_id, counts in activity.items():
        waiting = page.locator(f".cf-count[data-element-id='{element_id}']")
        assert waiting.all_inner_texts() == ([str(counts["waiting"])] if counts["waiting"] else [])
        incidents = page.locator(f".cf-incident-count[data-element-id='{element_id}']")
        expected = [f"⚠ {counts['incidents']}"] if counts["incidents"] else []
        assert incidents.all_inner_texts() == expected
    open_incidents = sum(c["incidents"] for c in activity.values())
    assert page.locator("#incidents li").count() == open_incidents
    page.locator(f"a[data-instance-id='{started[0]['id']}']").click()
    page.wait_for_selector("#instance-detail pre")
    assert page.locator("g.djs-element.cf-done, g.djs-element.cf-active").count() >= 1
    page.screenshot(path=str(screenshots / "instances.png"))


def test_a_decision_table_opens_in_the_table_editor_and_validates(page, stack, screenshots):
    sign_in(page, "ada")
    open_editor(page, stack, "approval", ROUTING)
    page.wait_for_selector(".tjs-table")
    assert page.locator(".tjs-table tbody tr").count() >= 1
    page.click("#validate")
    page.wait_for_selector("#status.good")
    page.screenshot(path=str(screenshots / "decision-table.png"))


def test_a_read_only_admin_cannot_deploy_and_others_are_refused(page, stack):
    sign_in(page, "ben")
    open_editor(page, stack, "negotiation", PRE_SIGNING)
    assert page.locator("#deploy").count() == 0
    assert "workflow-admin" in page.locator(".toolbar .note").inner_text()
    answer = page.evaluate(
        """async () => {
            const csrf = document.querySelector('meta[name=csrf-token]').content;
            const response = await fetch('/api/services/negotiation/deploy', {
              method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
              body: JSON.stringify({file_name: 'negotiation/pre_signing.bpmn', content: '<x/>'}),
            });
            return response.status;
        }"""
    )
    assert answer == 403

    page.context.clear_cookies()
    sign_in(page, "cleo")
    page.goto("/workflows")
    assert "for the roles admin and workflow-admin" in page.locator("main").inner_text()
    anonymous = requests.get(stack.url("admin", "/api/me"), timeout=10)
    assert anonymous.status_code == 401


def test_writes_without_the_anti_forgery_token_are_refused(page, stack):
    sign_in(page, "ada")
    page.wait_for_url("**/workflows")
    status = page.evaluate(
        """async () => (await fetch('/api/services/negotiation/validate', {
              method: 'POST', headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({file_name: 'x.bpmn', content: '<x/>'}),
            })).status"""
    )
    assert status == 403
    csp = requests.get(stack.url("admin", "/login"), timeout=10).headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("style-src")[0]


def test_the_language_is_switched_and_remembered(page, stack):
    sign_in(page, "ada")
    page.wait_for_url("**/workflows")
    page.click("a.lang")
    page.wait_for_selector("h1:has-text('流程与决策表')")
    page.goto("/audit")
    assert page.locator("h1").inner_text() == "部署审计"
    page.click("a.lang")
    page.wait_for_selector("h1:has-text('Deploy audit')")


def _elements(xml: str) -> dict[str, str]:
    root = etree.fromstring(xml.encode("utf-8"))
    return {
        str(e.get("id")): etree.QName(e).localname
        for e in root.iter()
        if isinstance(e.tag, str) and e.tag.startswith("{" + BPMN_NS) and e.get("id")
    }


@pytest.fixture(scope="module")
def miwg_editor(browser, stack):  # type: ignore[no-untyped-def]
    """One signed-in editor page for all reference models (opening one per model would
    cost a bundle load each)."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, locale="en-US", base_url=stack.url("admin")
    )
    errors: list[str] = []
    opened = context.new_page()
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(opened, "ben")
    open_editor(opened, stack, "negotiation", PRE_SIGNING)
    yield opened, errors
    context.close()


@pytest.mark.parametrize("model", MIWG_MODELS)
def test_miwg_reference_models_survive_the_modeler(miwg_editor, model):
    page, errors = miwg_editor
    assert (MIWG / model).is_file(), f"no MIWG reference model in {MIWG} (set MIWG_CORPUS)"
    errors.clear()
    xml = (MIWG / model).read_text(encoding="utf-8")
    exported = page.evaluate(
        """async xml => {
            await window.contractflowEditor.importXML(xml);
            return window.contractflowEditor.exportXML();
        }""",
        xml,
    )
    assert _elements(exported) == _elements(xml)
    # The server says why it cannot run it, element by element: never a 500, never a hang.
    page.evaluate("() => { document.getElementById('status').className = ''; }")
    page.click("#validate")
    wait_for("a validation verdict", lambda: page.locator("#status.good, #status.bad").count())
    verdict = page.locator("#status").inner_text()
    assert "HTTP 5" not in verdict and "Internal" not in verdict, verdict
    assert not errors, errors
