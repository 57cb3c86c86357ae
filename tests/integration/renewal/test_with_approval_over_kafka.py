"""Renewal and the approval service meeting over real Kafka: a costly renewal is approved
by the approvers' email links before it takes effect."""

from __future__ import annotations

import pytest

from tests.conftest import both_databases
from tests.integration.approval.support import ApprovalWorld, html_of, text_of
from tests.integration.harness import KafkaBus
from tests.integration.renewal.support import RenewalWorld
from tests.integration.renewal.test_decisions import decision_task
from tests.integration.renewal.test_expiry_watch import at
from tests.language_checks import english_in

pytestmark = [both_databases, pytest.mark.kafka]


def test_a_renewal_takes_effect_once_the_approval_service_approved_it(
    database_factory, topic_prefix, kafka_bootstrap
):
    approval = ApprovalWorld(database_factory, topic_prefix, kafka_bootstrap)
    renewal = RenewalWorld(database_factory, topic_prefix, KafkaBus(kafka_bootstrap))
    try:
        renewal.sign("C-KAFKA-RENEW", auto_renew=False, maintenance=False)
        renewal.advance_to(at("2027-10-02"))
        task = decision_task(renewal, "C-KAFKA-RENEW")
        response = renewal.client.post(
            f"/workflow/tasks/{task['id']}/complete",
            json={"data": {"choice": "renew_same_terms", "index_percent": "2"}},
            headers=renewal.token("zhang.san", "renewal-manager"),
        )
        assert response.status_code == 200, response.get_json()
        renewal.pump_until(lambda: renewal.events("approval.requested.v1"))

        # The approval service routes it by its cost (workflows/decisions/approval_routing.dmn:
        # a renewal above 100 000 also goes to the finance director).
        # A consumer joining its group on a busy shared broker can take a while.
        first = approval.pump_until(lambda: approval.mailbox.to("li.si@corp.test"), 180)[0]
        assert "合同续签" in first["Subject"]
        # li.si reads Chinese: what renewal wrote comes in Chinese, by name.
        body = text_of(first)
        assert "摘要：按原条件续签，新期限 2028-01-01 至 2028-12-31" in body, body
        assert "新合同总额：174,134.40 CNY（现为 170,720.00 CNY）" in body, body
        for part in (first["Subject"], body, html_of(first)):
            assert english_in(part, "明德 OA 系统管理服务合同") == [], part
        approval.approve_by_mail("li.si")
        approval.approve_by_mail("fd")
        decided = approval.published("approval.decided.v1", contract_id="C-KAFKA-RENEW")
        assert decided["outcome"] == "approved"
        assert [d["approver"] for d in decided["decisions"]] == ["li.si", "fd"]

        [renewed] = renewal.pump_until(lambda: renewal.events("contract.renewed.v1"))
        assert renewed["total"] == {"amount": "174134.40", "currency": "CNY"}  # 170720 * 1.02
        assert renewed["approval_request_id"] == decided["request_id"]
        assert renewal.contract("C-KAFKA-RENEW")["end_date"] == "2028-12-31"
    finally:
        renewal.close()
        approval.close()
