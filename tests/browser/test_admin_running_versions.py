"""What a deploy in the editor does to the running approval service, in headless chromium
against the real processes: approval requests arrive as `approval.requested` events on
Kafka (as negotiation sends them), the worker starts and routes them, and approvers
decide through the approval API.

- The routing table edited in the decision table editor and deployed routes the NEXT
  request; the one routed before keeps the table it was routed by.
- A new approval workflow version: the running service starts the next request on it,
  while a request started before finishes on its old version.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .conftest import sign_in
from .stack import Stack, wait_for
from .test_admin_editor import ROUTING, latest, open_editor

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

APPROVAL = "approval/approval.bpmn"
# person, manager, roles: the requester, the department manager, the finance director.
PEOPLE = (
    ("rt.requester", "rt.manager", []),
    ("rt.manager", None, []),
    ("rt.finance", None, ["finance_director"]),
)


@pytest.fixture(scope="module")
def directory(stack: Stack) -> None:
    for person, manager, roles in PEOPLE:
        stack.api(
            "approval",
            "PUT",
            f"/approval/directory/people/{person}",
            "approval-admin",
            json={
                "name": person.replace(".", " ").title(),
                "email": f"{person}@corp.test",
                "language": "en",
                "manager_id": manager,
                "roles": roles,
            },
        )


def request_approval(stack: Stack, amount: str) -> str:
    request_id = f"AR-{uuid.uuid4().hex[:8]}"
    contract_id = f"C-{uuid.uuid4().hex[:8]}"
    data = {
        "request_id": request_id,
        "contract_id": contract_id,
        "kind": "contract",
        "amount": amount,
        "currency": "CNY",
        "risk": "low",
        "requester": "rt.requester",
        "summary": "Browser test contract",
        "subject_url": f"http://negotiation.test/contracts/{contract_id}",
        "provider": "Spruce Software Services",
    }
    stack.publish("approval.requested.v1", data, contract_id)
    return request_id


def open_tasks(stack: Stack, request_id: str) -> list[tuple[int, str]]:
    """(level, person) of the request's open approval tasks, once it has any."""
    found = stack.api("approval", "GET", f"/approval/requests/{request_id}", missing_ok=True)
    tasks = (found or {}).get("tasks", [])
    return [(t["level"], t["person_id"]) for t in tasks if t["status"] == "open"]


def approve(stack: Stack, request_id: str, person: str) -> None:
    request = stack.api("approval", "GET", f"/approval/requests/{request_id}")
    [task] = [t for t in request["tasks"] if t["person_id"] == person and t["status"] == "open"]
    stack.api(
        "approval",
        "POST",
        f"/approval/tasks/{task['task_id']}/decision",
        "approver",
        user=person,
        json={"decision": "approved", "comment": "ok"},
    )


def instance_of(stack: Stack, request_id: str) -> dict[str, Any]:
    request = stack.api("approval", "GET", f"/approval/requests/{request_id}")
    return dict(stack.api("approval", "GET", f"/workflow/instances/{request['instance_id']}"))


def test_the_next_request_is_routed_by_the_deployed_table(page, stack, directory, screenshots):
    # 80 000 is below the finance director's 100 000: the department manager alone.
    before = request_approval(stack, "80000.00")
    assert wait_for("the first request routed", lambda: open_tasks(stack, before), 60) == [
        (1, "rt.manager")
    ]

    sign_in(page, "ada")
    open_editor(page, stack, "approval", ROUTING)
    # The finance director's threshold, edited in its cell as a person does.
    cell = page.locator("td[data-element-id='rule_finance_director_amount']")
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("> 50000")
    page.locator("h1, .toolbar strong").first.click()
    xml = page.evaluate("() => window.contractflowEditor.exportXML()")
    assert "&gt; 50000" in xml and "&gt; 100000" not in xml.split("rule_general_manager")[0]
    page.click("#validate")
    page.wait_for_selector("#status.good")
    page.fill("#comment", "Finance director from 50 000")
    page.click("#deploy")
    page.wait_for_selector("#status.good:has-text('Deployed as version')")
    page.screenshot(path=str(screenshots / "decision-table-deployed.png"))
    table = latest(stack, "approval", ROUTING)["versions"][0]
    assert table["deployed_by"] == "ada"

    after = request_approval(stack, "80000.00")
    assert wait_for("the next request routed", lambda: open_tasks(stack, after), 60) == [
        (1, "rt.manager")
    ]
    approve(stack, after, "rt.manager")
    # The new table put the finance director on level 2 for 80 000.
    assert wait_for("level 2 of the next request", lambda: open_tasks(stack, after), 60) == [
        (2, "rt.finance")
    ]
    # The request routed before the deploy keeps its table: one level, then approved.
    approve(stack, before, "rt.manager")
    done = wait_for(
        "the first request approved",
        lambda: (
            r
            if (r := stack.api("approval", "GET", f"/approval/requests/{before}"))["status"]
            != "pending"
            else None
        ),
        60,
    )
    assert done["status"] == "approved" and [t["level"] for t in done["tasks"]] == [1]


def test_new_requests_start_on_the_new_version_while_an_old_one_finishes(
    page, stack, directory, screenshots
):
    old_version = latest(stack, "approval", APPROVAL)["versions"][0]
    # 30 000: one level whichever routing table is in force.
    old = request_approval(stack, "30000.00")
    wait_for("the old request's task", lambda: open_tasks(stack, old), 60)
    assert instance_of(stack, old)["definition_id"] == old_version["id"]

    sign_in(page, "ada")
    open_editor(page, stack, "approval", APPROVAL)
    # The collection the decide task loops over is a variable name, kept on export.
    xml = page.evaluate("() => window.contractflowEditor.exportXML()")
    assert "<bpmn:loopDataInputRef>approvers</bpmn:loopDataInputRef>" in xml
    assert "<bpmn:loopDataOutputRef>level_decisions</bpmn:loopDataOutputRef>" in xml
    page.locator("g.djs-element[data-element-id='decide']").dblclick()
    page.locator(".djs-direct-editing-parent").wait_for()
    page.keyboard.press("Control+A")
    page.keyboard.type("Approve or reject the contract")
    page.mouse.click(900, 700)
    page.fill("#comment", "Clearer approval task label")
    page.click("#deploy")
    page.wait_for_selector("#status.good:has-text('Deployed as version')")
    new_version = latest(stack, "approval", APPROVAL)["versions"][0]
    assert new_version["sequence"] == old_version["sequence"] + 1

    new = request_approval(stack, "30000.00")
    wait_for("the new request's task", lambda: open_tasks(stack, new), 60)
    assert instance_of(stack, new)["definition_id"] == new_version["id"]

    approve(stack, old, "rt.manager")
    finished = wait_for(
        "the old instance finished",
        lambda: i if (i := instance_of(stack, old))["status"] == "completed" else None,
        60,
    )
    assert finished["definition_id"] == old_version["id"]
    assert instance_of(stack, new)["status"] == "active"

    # What the editor shows of it: the list's counts per version, the new version's view.
    page.goto("/workflows")
    row = page.locator(f"#service-approval tr[data-file='{APPROVAL}']")
    newest = row.locator(f".version[data-sequence='{new_version['sequence']}']")
    assert newest.locator(".count-active").inner_text() == "1"
    oldest = row.locator(f".version[data-sequence='{old_version['sequence']}']")
    counts = stack.api("approval", "GET", "/workflow/definitions", "admin")
    listed = next(d for d in counts["definitions"] if d["file_name"] == APPROVAL)
    old_counts = next(v for v in listed["versions"] if v["id"] == old_version["id"])
    assert oldest.locator(".count-active").inner_text() == str(
        old_counts["instances"].get("active", 0)
    )
    page.goto(f"/workflows/approval/instances?version={new_version['id']}")
    page.wait_for_selector("#instances-app[data-loaded=true]", timeout=30_000)
    assert page.locator(".cf-count[data-element-id='decide']").inner_text() == "1"
    page.screenshot(path=str(screenshots / "instances-new-version.png"))
