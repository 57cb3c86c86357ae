"""A task notice (zh/en) goes to whoever a negotiation task waits for: its role's holders
as the ERP reports them, once per task."""

from __future__ import annotations

from sqlalchemy import select

from contractflow.events.envelope import CloudEvent
from contractflow.mail import MailMessage
from tests.language_checks import english_in
from tests.unit.negotiation.support import Negotiation

PEOPLE = [
    ("cm", "陈经理", ["contract-manager"], "zh"),
    ("lawyer", "Laura Law", ["legal"], "en"),
    ("nobody", "No Role", [], "zh"),
    ("gone", "Left Already", ["contract-manager"], "zh", False),
]


def employees(negotiation: Negotiation) -> None:
    for person_id, name, roles, language, *active in PEOPLE:
        data = {
            "employee_id": person_id,
            "name": name,
            "email": f"{person_id}@corp.test",
            "language": language,
            "roles": roles,
            "active": active[0] if active else True,
        }
        event = CloudEvent(
            type="erp.employee.updated.v1", source="/erp", subject=person_id, data=data
        )
        with negotiation.kernel.sessions.begin() as session:
            handler = negotiation.kernel.handlers["erp.employee.updated.v1"]
            handler(session, event, negotiation.kernel.catalogue.load(event))


def notices(negotiation: Negotiation) -> list[MailMessage]:
    negotiation.kernel.extensions["negotiation.task_notices"].job(negotiation.kernel.sessions)()
    with negotiation.kernel.sessions() as session:
        return list(
            session.scalars(
                select(MailMessage)
                .where(MailMessage.purpose == "task-opened")
                .order_by(MailMessage.id)
            )
        )


def test_a_task_for_a_role_is_announced_to_its_holders_once(negotiation: Negotiation):
    employees(negotiation)
    contract_id = negotiation.create()
    [notice] = notices(negotiation)  # define_requirement, for contract managers
    assert notice.recipient == "cm@corp.test"
    assert "待办" in notice.subject and "明德" in notice.subject  # the contract's title
    assert negotiation.task(contract_id, "define_requirement")["id"] in notice.text_body
    assert len(notices(negotiation)) == 1  # nothing twice

    negotiation.prepare(contract_id)
    assert negotiation.submit(contract_id).status_code == 200
    sent = notices(negotiation)
    legal = [m for m in sent if m.recipient == "lawyer@corp.test"]
    assert len(legal) == 1 and "Task for you" in legal[0].subject  # in her language
    assert not [m for m in sent if m.recipient in ("nobody@corp.test", "gone@corp.test")]


def test_a_chinese_reader_is_told_the_task_and_the_role_in_chinese(negotiation: Negotiation):
    """The task's name and role come from the BPMN (English, for the engine and the
    editor); a zh notice names them in Chinese, an en notice in English."""
    employees(negotiation)
    contract_id = negotiation.create()
    title = negotiation.contract(contract_id)["title"]
    [notice] = notices(negotiation)  # define_requirement, for the contract managers
    for part in (notice.subject, notice.text_body, notice.html_body):
        assert english_in(part, title) == [], part
    assert "明确需求与预算" in notice.text_body and "合同管理员" in notice.text_body

    negotiation.prepare(contract_id)
    assert negotiation.submit(contract_id).status_code == 200
    [legal] = [m for m in notices(negotiation) if m.recipient == "lawyer@corp.test"]
    assert "Legal review" in legal.subject and "the legal role" in legal.text_body


def test_the_approval_request_carries_its_summary_in_both_languages(negotiation: Negotiation):
    contract_id = negotiation.create()
    negotiation.to_approval(contract_id)
    [request] = negotiation.outbox("approval.requested.v1")
    texts, title = request.data["texts"], negotiation.contract(contract_id)["title"]
    assert english_in(texts["zh"]["summary"], title) == [], texts["zh"]["summary"]
    assert " 至 " in texts["zh"]["summary"] and " to " in texts["en"]["summary"]
    assert request.data["summary"] == texts["en"]["summary"]  # as before, for other readers
