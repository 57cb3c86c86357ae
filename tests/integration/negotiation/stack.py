"""Negotiation and renewal wired to a broker (in-memory or real Kafka), with the test in the
approval service's seat: it reads approval.requested from the topic and answers with
approval.decided on the topic; negotiation's own consumer brings the answer back."""

from __future__ import annotations

from collections.abc import Callable

from contractflow.events.consumer import ConsumerLoop, EventProcessor, Outcome, RetryPolicy
from contractflow.events.deadletter import DeadLetterPublisher
from contractflow.events.envelope import CONTENT_TYPE, CloudEvent
from contractflow.events.relay import OutboxRelay
from contractflow.service import ServiceKernel
from services.renewal.bootstrap import bootstrap as renewal_bootstrap
from tests.conftest import service_settings
from tests.integration.harness import KafkaBus, MemoryBus, drain, migrated_service
from tests.unit.negotiation.support import Negotiation, decision_event


def consumer_loop(bus: MemoryBus | KafkaBus, kernel: ServiceKernel) -> ConsumerLoop:
    processor = EventProcessor(
        kernel.consumer_group,
        kernel.sessions,
        kernel.catalogue,
        kernel.handlers,
        DeadLetterPublisher(bus.producer(), kernel.dead_letter_topic, kernel.consumer_group),
        retry=RetryPolicy(max_attempts=3, backoff_ms=1),
        max_event_bytes=kernel.settings.max_event_bytes,
    )
    return ConsumerLoop(bus.consumer(kernel.consumer_group, kernel.subscribed_topics()), processor)


class PreSigningStack:
    def __init__(
        self, bus: MemoryBus | KafkaBus, make_database: Callable[[str], str], prefix: str
    ) -> None:
        self.bus = bus
        self.negotiation = Negotiation(make_database("negotiation"), prefix)
        self.renewal = migrated_service(
            renewal_bootstrap, service_settings("renewal", make_database("renewal"), prefix)
        )
        kernel = self.negotiation.kernel
        bus.create_topics(kernel.all_topics() | self.renewal.all_topics())
        self.relay = OutboxRelay(kernel.sessions, bus.producer())
        self.negotiation_consumer = consumer_loop(bus, kernel)
        self.renewal_consumer = consumer_loop(bus, self.renewal)

    def close(self) -> None:
        self.negotiation.close()
        self.renewal.close()

    def topic(self, event_type: str) -> str:
        return self.negotiation.kernel.outbox.topic_for(event_type)

    def published(self, event_type: str) -> list[CloudEvent]:
        """Relay what negotiation committed, then read the events of this type off the topic."""
        while self.relay.relay_once():
            pass
        records = self.bus.records(self.topic(event_type))
        events = [CloudEvent.from_json(r.value) for r in records]
        return [e for e in events if e.type == event_type]

    def answer(self, request: CloudEvent, outcome: str, comment: str = "") -> None:
        """Play the approval service: publish the decision, let negotiation consume it."""
        decided = decision_event(request, outcome, comment)
        self.bus.producer().publish(
            [
                (
                    self.topic("approval.decided.v1"),
                    decided.subject.encode(),
                    decided.to_json(),
                    [("content-type", CONTENT_TYPE.encode())],
                )
            ]
        )
        drain(
            self.negotiation_consumer,
            lambda outcomes: any(o is Outcome.HANDLED for o in outcomes),
        )
