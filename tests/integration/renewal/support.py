"""A wired renewal service for tests: a fake clock, real SMTP (aiosmtpd), the in-memory
bus or real Kafka. `RenewalWorld.pump()` does one round of what the worker does: relay the
outbox, consume events, tick the expiry watch and send mail."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aiosmtpd.controller import Controller
from flask.testing import FlaskClient

from contractflow.contracts import dump_contract_terms
from contractflow.contracts.samples import sample_terms
from contractflow.contracts.service import ServiceTerm
from contractflow.db import unit_of_work
from contractflow.events.consumer import ConsumerLoop, EventProcessor, RetryPolicy
from contractflow.events.deadletter import DeadLetterPublisher
from contractflow.events.envelope import CloudEvent
from contractflow.events.relay import OutboxRelay
from contractflow.mail import MailSettings
from contractflow.service import ServiceKernel
from contractflow.web import create_service_app
from contractflow.workflow import WorkflowRuntime
from services.renewal.bootstrap import bootstrap
from services.renewal.settings import RenewalSettings
from tests.conftest import service_settings
from tests.integration.approval.support import MailBox, free_port, text_of
from tests.integration.harness import migrated_service

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2027, 1, 5, 10, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
OWNER_EMAIL = "it@mingde-trading.example.cn"  # the sample user's contact

__all__ = ["RenewalWorld", "signed_data", "text_of"]


def signed_data(
    contract_id: str,
    start: dt.date = dt.date(2027, 1, 1),
    end: dt.date = dt.date(2027, 12, 31),
    *,
    auto_renew: bool = True,
    notice_days: int = 30,
    maintenance: bool = True,
) -> dict[str, Any]:
    """`maintenance=False`: a schedule of no items, for tests of the reminders alone."""
    terms = sample_terms(
        service_term=ServiceTerm(start, end, auto_renew, notice_days, "双方无异议则自动续期一年")
    )
    if not maintenance:
        terms = replace(terms, maintenance_schedule=())
    return {
        "contract_id": contract_id,
        "title": "明德 OA 系统管理服务合同",
        "user": {"id": "91310115MA1H7XY23K", "name": "明德贸易"},
        "provider": {"id": "91330106MA2B3C4D5E", "name": "云维科技"},
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "auto_renew": auto_renew,
        "notice_period_days": notice_days,
        "total": {"amount": "170720.00", "currency": "CNY"},
        "payment_schedule": [],
        "signed_at": "2026-12-20T10:00:00+08:00",
        "terms": dump_contract_terms(terms),
    }


def amended_data(contract_id: str, number: str, new_end: dt.date, total: str) -> dict[str, Any]:
    terms = sample_terms(
        service_term=ServiceTerm(dt.date(2027, 1, 1), new_end, True, 30, "双方无异议则自动续期一年")
    )
    return {
        "contract_id": contract_id,
        "request_id": f"CR-{uuid.uuid4().hex[:6]}",
        "amendment_number": number,
        "description": "延长服务期 / extend the term",
        "changes": {"service_term": {"end_date": new_end.isoformat()}},
        "effective_date": "2027-02-01",
        "signed_on": "2027-01-20",
        "signed_by": {"user": "李敏", "provider": "赵磊"},
        "terms": dump_contract_terms(terms),
        "difference": {"amount": "20000.00", "currency": "CNY"},
        "total_after": {"amount": total, "currency": "CNY"},
        "fee_schedule": [],
    }


def terminated_data(contract_id: str, effective: str = "2027-06-30") -> dict[str, Any]:
    return {
        "contract_id": contract_id,
        "request_id": f"TR-{uuid.uuid4().hex[:6]}",
        "grounds": "user_convenience",
        "notice_given_on": "2027-05-31",
        "effective_date": effective,
        "compensation": {
            "payer": "user",
            "payee": "provider",
            "amount": {"amount": "0.00", "currency": "CNY"},
            "basis": "none",
        },
        "settlement": {"payer": "none", "amount": {"amount": "0.00", "currency": "CNY"}},
        "handover": ["data export"],
    }


class RenewalWorld:
    def __init__(
        self,
        make_database: Callable[[str], str],
        prefix: str,
        bus: Any,
        config: RenewalSettings | None = None,
        database_url: str | None = None,
    ) -> None:
        self.now = START
        self.mailbox = MailBox()
        self.smtp: Controller | None = Controller(
            self.mailbox, hostname="127.0.0.1", port=free_port()
        )
        self.smtp.start()
        mail = MailSettings(host="127.0.0.1", port=self.smtp.port, sender="renewal@corp.test")
        self.config = replace(
            config or RenewalSettings(), public_base_url="http://renewal.test", mail=mail
        )
        self.database_url = database_url or make_database("renewal")
        settings = service_settings("renewal", self.database_url, prefix)
        self.kernel: ServiceKernel = migrated_service(
            lambda s: bootstrap(s, renewal_settings=self.config, clock=lambda: self.now),
            settings,
        )
        self.bus = bus
        self.bus.create_topics(self.kernel.all_topics())
        self.producer = self.bus.producer()
        self.relay = OutboxRelay(self.kernel.sessions, self.producer)
        processor = EventProcessor(
            self.kernel.consumer_group,
            self.kernel.sessions,
            self.kernel.catalogue,
            self.kernel.handlers,
            DeadLetterPublisher(self.producer, self.kernel.dead_letter_topic, "renewal"),
            retry=RetryPolicy(max_attempts=2, backoff_ms=1),
        )
        consumer = self.bus.consumer(self.kernel.consumer_group, self.kernel.subscribed_topics())
        self.consumer = ConsumerLoop(consumer, processor)
        self.runtime: WorkflowRuntime = self.kernel.extensions["contractflow.workflow"]  # type: ignore[assignment]
        self.watch = self.kernel.extensions["renewal.expiry_watch"]
        self.sender = self.kernel.extensions["renewal.mail_sender"]
        self.announce_tasks = self.kernel.extensions["renewal.task_notices"].job(  # type: ignore[attr-defined]
            self.kernel.sessions
        )
        self.client: FlaskClient = create_service_app(self.kernel.web()).test_client()

    def close(self) -> None:
        if self.smtp is not None:  # a test may close the world early (a worker dying)
            self.smtp.stop()
            self.kernel.close()
            self.smtp = None

    def token(self, user: str = "li.min", *roles: str) -> dict[str, str]:
        jwt = self.kernel.tokens.mint(user, roles or ("renewal-manager",), dt.timedelta(hours=1))
        return {"Authorization": f"Bearer {jwt}"}

    def send(self, event_type: str, data: dict[str, Any], key: str) -> CloudEvent:
        """Publish as another service would (through an outbox, here renewal's own)."""
        event = CloudEvent(type=event_type, source="/tests", subject=key, data=data)
        with unit_of_work(self.kernel.sessions) as session:
            self.kernel.outbox.record(session, event)
        return event

    def redeliver(self, event: CloudEvent) -> None:
        """The record that carried `event` once more, as the broker delivers it again after
        an offset commit was lost (relayed already)."""
        topic = self.kernel.outbox.topic_for(event.type)
        [record] = [
            r for r in self.bus.records(topic) if CloudEvent.from_json(r.value).id == event.id
        ]
        self.producer.publish([(record.topic, record.key, record.value, record.headers)])

    def events(self, event_type: str) -> list[dict[str, Any]]:
        topic = self.kernel.outbox.topic_for(event_type)
        found = []
        for record in self.bus.records(topic):
            event = CloudEvent.from_json(record.value)
            if event.type == event_type:
                found.append(event.data)
        return found

    def dead_letters(self) -> list[Any]:
        return self.bus.records(self.kernel.dead_letter_topic)

    def pump(self) -> None:
        self.relay.relay_once()
        self.consumer.run_once(timeout_ms=100)
        self.watch.tick(self.now)
        self.announce_tasks()
        self.sender.send_pending()

    def pump_until(self, condition: Callable[[], Any], deadline_s: float = 30) -> Any:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            self.pump()
            result = condition()
            if result:
                return result
        raise AssertionError("condition not met before the deadline")

    def advance_to(self, when: dt.datetime) -> None:
        self.now = when
        self.pump()

    def contract(self, contract_id: str) -> dict[str, Any]:
        response = self.client.get(f"/contracts/{contract_id}", headers=self.token())
        return response.get_json() if response.status_code == 200 else {}

    def sign(self, contract_id: str, **kw: Any) -> dict[str, Any]:
        self.send("contract.signed.v1", signed_data(contract_id, **kw), contract_id)
        return self.pump_until(lambda: self.contract(contract_id))
