"""A Chinese reader's mails and pages say everything in Chinese: the summary and change
lines a workflow step wrote, the risk, the task a notice announces and the role it is
for; none carries the engine's English or a code (an English reader gets English)."""

from __future__ import annotations

import pytest

from tests.conftest import both_databases
from tests.integration.approval.support import (
    ApprovalWorld,
    html_of,
    link_in,
    request_crm_module,
    request_termination_for_breach,
    terms_2027,
    text_of,
    wait_for_task,
)
from tests.integration.harness import signed_event
from tests.language_checks import english_in

pytestmark = [both_databases, pytest.mark.kafka]
# What the contract's people typed: its (bilingual) title and its provider's name.
TITLE, PROVIDER = terms_2027().title, terms_2027().parties.provider.name


def task_notice_to(world: ApprovalWorld, person: str):
    notices = world.kernel.extensions["approval.task_notices"]

    def mails():
        notices.job(world.kernel.sessions)()
        world.sender.send_pending()
        return [m for m in world.mailbox.to(f"{person}@corp.test") if "待办" in m["Subject"]]

    return world.pump_until(mails)[-1]


def chinese_only(message, *typed: str) -> None:
    for part in (message["Subject"], text_of(message), html_of(message)):
        assert english_in(part, TITLE, PROVIDER, *typed) == [], part


def test_a_change_request_reads_in_chinese(world: ApprovalWorld) -> None:
    contract = signed_event()
    world.send("contract.signed.v1", contract.data, contract.subject)
    instance_id = request_crm_module(world, contract.subject, "业务扩展需要客户管理模块")[
        "instance_id"
    ]

    mail = world.mails_to("li.si")[0]  # zh
    chinese_only(mail)
    body = text_of(mail)
    assert "增加模块：CRM" in body and "风险等级：低" in body and "费用变化 +5,400.00 CNY" in body
    page = world.open_link(link_in(mail)).get_data(as_text=True)
    assert english_in(page, TITLE, PROVIDER) == [], page

    world.approve_by_mail("li.si")
    wait_for_task(world, instance_id, "sign_amendment")
    notice = task_notice_to(world, "cm")  # cm holds contract-manager; zh
    chinese_only(notice)
    assert "登记已签署的书面变更协议" in text_of(notice) and "合同管理员" in text_of(notice)


def test_a_termination_reads_in_chinese_and_in_english(world: ApprovalWorld) -> None:
    contract = signed_event(notice_period_days=30)
    world.send("contract.signed.v1", contract.data, contract.subject)
    request_termination_for_breach(world, contract.subject, "系统连续宕机，软件无法使用")
    mail = world.mails_to("li.si")[0]
    chinese_only(mail)
    body = text_of(mail)
    assert "服务方违约" in body and "通知期：30 天" in body and "风险等级：高" in body
    world.approve_by_mail("li.si")
    english = text_of(world.mails_to("fd")[0])  # fd reads English
    assert "provider breach" in english and "notice period: 30 days" in english
    assert "通知期" not in english and "Risk: high" in english
