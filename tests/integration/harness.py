"""Two wired services (negotiation producing, renewal consuming) on a chosen database kind
and broker kind, for the event-plumbing suite that must pass on every combination."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import func, select

from contractflow.config import Settings
from contractflow.db import make_engine, unit_of_work
from contractflow.events.consumer import ConsumerLoop, EventProcessor, Outcome, RetryPolicy
from contractflow.events.deadletter import DeadLetterPublisher
from contractflow.events.envelope import CloudEvent
from contractflow.events.kafka_bus import KafkaEventConsumer, KafkaEventProducer, ensure_topics
from contractflow.events.memory_bus import InMemoryBroker, InMemoryConsumer, InMemoryProducer
from contractflow.events.relay import OutboxRelay
from contractflow.events.topic_reader import read_topic
from contractflow.events.transport import Consumer, Headers, Producer, Record
from contractflow.migrate import upgrade
from contractflow.service import ServiceKernel
from contractflow.worker import kafka_worker
from services.negotiation.bootstrap import bootstrap as negotiation_bootstrap
from services.renewal.bootstrap import bootstrap as renewal_bootstrap
from tests.conftest import service_settings


class MemoryBus:
    kind = "memory"

    def __init__(self) -> None:
        self.broker = InMemoryBroker(partitions=3)

    def create_topics(self, topics: set[str]) -> None:
        self.broker.create_topics(topics)

    def producer(self) -> Producer:
        return InMemoryProducer(self.broker)

    def consumer(self, group: str, topics: set[str]) -> Consumer:
        return InMemoryConsumer(self.broker, group, topics)

    def records(self, topic: str) -> list[Record]:
        return self.broker.records(topic)

    def close(self) -> None:
        pass


class KafkaBus:
    kind = "kafka"

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._closables: list[Any] = []

    def create_topics(self, topics: set[str]) -> None:
        ensure_topics(self.bootstrap, topics, partitions=3)

    def producer(self) -> Producer:
        producer = KafkaEventProducer(self.bootstrap, f"test-{uuid.uuid4().hex[:6]}")
        self._closables.append(producer)
        return producer

    def consumer(self, group: str, topics: set[str]) -> Consumer:
        consumer = KafkaEventConsumer(self.bootstrap, group, topics, f"test-{uuid.uuid4().hex[:6]}")
        self._closables.append(consumer)
        return consumer

    def records(self, topic: str) -> list[Record]:
        return read_topic(self.bootstrap, topic)

    def close(self) -> None:
        for closable in reversed(self._closables):
            with contextlib.suppress(Exception):
                closable.close()


def all_service_models() -> None:
    """Import every service's bootstrap so all their models are on Base.metadata."""
    import services.approval.bootstrap
    import services.erp_connector.bootstrap
    import services.negotiation.bootstrap
    import services.renewal.bootstrap  # noqa: F401


def migrated_service(bootstrap: Callable, settings: Settings) -> ServiceKernel:
    """A service on a database migrated first, as `make up` does before starting it."""
    engine = make_engine(settings.database_url)
    upgrade(engine, settings.service)
    engine.dispose()
    return bootstrap(settings)


def signed_event(contract_id: str | None = None, **changes: Any) -> CloudEvent:
    contract_id = contract_id or f"C-{uuid.uuid4().hex[:10]}"
    data = {
        "contract_id": contract_id,
        "title": "OA 系统运维服务合同",
        "user": {"id": "U-1", "name": "华东制造有限公司"},
        "provider": {"id": "P-7", "name": "云杉软件服务有限公司"},
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
        "auto_renew": False,
        "notice_period_days": 30,
        "total": {"amount": "120000.00", "currency": "CNY"},
        "payment_schedule": [
            {
                "due_date": "2027-01-01",
                "amount": {"amount": "60000.00", "currency": "CNY"},
                "description": "首期 first half-year",
            },
            {
                "due_date": "2027-07-01",
                "amount": {"amount": "60000.00", "currency": "CNY"},
                "description": "二期 second half-year",
            },
        ],
        "signed_at": "2026-12-20T10:00:00+08:00",
        **changes,
    }
    return CloudEvent(
        type="contract.signed.v1", source="/negotiation", subject=contract_id, data=data
    )


class ServicePair:
    """Negotiation writes to its outbox; its relay publishes; renewal's consumer handles."""

    def __init__(self, bus: MemoryBus | KafkaBus, make_database: Callable[[str], str], prefix: str):
        self.bus = bus
        self.negotiation = self._kernel(negotiation_bootstrap, "negotiation", make_database, prefix)
        self.renewal = self._kernel(renewal_bootstrap, "renewal", make_database, prefix)
        bus.create_topics(self.negotiation.all_topics() | self.renewal.all_topics())

    @staticmethod
    def _kernel(
        bootstrap: Callable, service: str, make_database: Callable, prefix: str
    ) -> ServiceKernel:
        return migrated_service(
            bootstrap, service_settings(service, make_database(service), prefix)
        )

    def write(self, *events: CloudEvent) -> None:
        with unit_of_work(self.negotiation.sessions) as session:
            for event in events:
                self.negotiation.outbox.record(session, event)

    def relay(self, producer: Producer | None = None) -> OutboxRelay:
        return OutboxRelay(self.negotiation.sessions, producer or self.bus.producer())

    def consumer_loop(
        self, consumer: Consumer | None = None, handlers: dict | None = None, max_attempts: int = 3
    ) -> ConsumerLoop:
        kernel = self.renewal
        processor = EventProcessor(
            kernel.consumer_group,
            kernel.sessions,
            kernel.catalogue,
            handlers if handlers is not None else kernel.handlers,
            DeadLetterPublisher(
                self.bus.producer(), kernel.dead_letter_topic, kernel.consumer_group
            ),
            retry=RetryPolicy(max_attempts=max_attempts, backoff_ms=1),
            max_event_bytes=kernel.settings.max_event_bytes,
        )
        return ConsumerLoop(
            consumer or self.bus.consumer(kernel.consumer_group, kernel.subscribed_topics()),
            processor,
        )

    def raw_publish(self, messages: list[tuple[str, bytes | None, bytes, Headers]]) -> None:
        self.bus.producer().publish(messages)

    def close(self) -> None:
        self.negotiation.close()
        self.renewal.close()


def drain(
    loop: ConsumerLoop, until: Callable[[list[Outcome]], bool], deadline_s: float = 60
) -> list[Outcome]:
    """Run the consumer until `until(all outcomes so far)` holds, failing after the deadline."""
    outcomes: list[Outcome] = []
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        outcomes.extend(loop.run_once(timeout_ms=200))
        if until(outcomes):
            return outcomes
    raise AssertionError(f"deadline passed; outcomes so far: {len(outcomes)} {outcomes[-5:]}")


def wait_until(predicate: Callable[[], bool], deadline_s: float = 60, step_s: float = 0.1) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(step_s)
    raise AssertionError("condition not met before the deadline")


@contextlib.contextmanager
def running_workers(kafka_bootstrap: str, database_factory: Any, prefix: str) -> Iterator[Any]:
    """Negotiation and renewal over real Kafka with their real worker threads (relay,
    consumer, timers) running; yields the ServicePair, stops and closes all at the end."""
    bus = KafkaBus(kafka_bootstrap)
    services = ServicePair(bus, database_factory, prefix)
    workers = [kafka_worker(services.negotiation), kafka_worker(services.renewal)]
    for worker in workers:
        worker.start()
    try:
        yield services
    finally:
        for worker in workers:
            worker.stop()
        bus.close()
        services.close()


def renewal_count(services: ServicePair, model: Any) -> int:
    """Rows of `model` in renewal's database."""
    with services.renewal.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
