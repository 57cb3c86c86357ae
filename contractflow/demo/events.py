"""What the demo sees on Kafka: every event on the stack's topics, read from the beginning
by a consumer of its own (a fresh group that never commits, so it changes nothing for the
services), kept in memory, each one printed as it arrives when it is about a demo contract;
and what the demo itself publishes as the provider's monitoring system (KPI reports)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contractflow.events.deadletter import PREFIX as DLQ_HEADERS
from contractflow.events.envelope import CONTENT_TYPE, CloudEvent, contract_traceparent
from contractflow.events.kafka_bus import KafkaEventConsumer, KafkaEventProducer
from contractflow.events.schemas import default_catalogue

Seen = tuple[str, CloudEvent]  # (topic without the prefix, event)
DEAD_LETTER = "deadletter."
REASON_HEADER = DLQ_HEADERS + "reason"


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    event: CloudEvent
    reason: str


class EventLog:
    def __init__(
        self,
        bootstrap: str,
        prefix: str,
        on_event: Callable[[CloudEvent], None],
        on_dead_letter: Callable[[DeadLetter], None],
    ) -> None:
        self.bootstrap, self.prefix = bootstrap, prefix
        self.on_event, self.on_dead_letter = on_event, on_dead_letter
        self.dead_letters: list[DeadLetter] = []
        self.catalogue = default_catalogue()
        topics = sorted(self.catalogue.topics())
        self.topics = topics + [DEAD_LETTER + s for s in DEAD_LETTER_SERVICES]
        self._seen: list[Seen] = []
        self._changed = threading.Lock()
        self._stop = threading.Event()
        self._consumer = KafkaEventConsumer(
            bootstrap,
            f"{prefix}demo-watch-{uuid.uuid4().hex[:8]}",
            [prefix + t for t in self.topics],
            client_id="contractflow-demo",
        )
        self._thread = threading.Thread(target=self._follow, name="demo-events", daemon=True)
        self._producer: KafkaEventProducer | None = None

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._consumer.close()
        if self._producer is not None:
            self._producer.close()

    def _follow(self) -> None:
        while not self._stop.is_set():
            for record in self._consumer.poll(timeout_ms=300, max_records=500):
                try:
                    event = CloudEvent.from_json(record.value)
                except ValueError:
                    continue  # counted by the dead-letter topics, not the demo's business
                topic = record.topic.removeprefix(self.prefix)
                with self._changed:
                    self._seen.append((topic, event))
                if topic.startswith(DEAD_LETTER):
                    letter = DeadLetter(topic, event, record.header(REASON_HEADER) or "?")
                    self.dead_letters.append(letter)
                    self.on_dead_letter(letter)
                else:
                    self.on_event(event)

    def find(self, event_type: str, contract_id: str, **match: Any) -> list[dict[str, Any]]:
        """The data of the `event_type` events about `contract_id` seen so far."""
        with self._changed:
            return [
                e.data
                for topic, e in self._seen
                if not topic.startswith(DEAD_LETTER)
                and e.type == event_type
                and e.subject == contract_id
                and all(e.data.get(k) == v for k, v in match.items())
            ]

    def of_contract(self, contract_id: str) -> list[CloudEvent]:
        with self._changed:
            return [
                e
                for topic, e in self._seen
                if e.subject == contract_id and not topic.startswith(DEAD_LETTER)
            ]

    def per_topic(self) -> Counter[str]:
        with self._changed:
            return Counter(topic for topic, _ in self._seen)

    def publish(self, event_type: str, contract_id: str, data: dict[str, Any]) -> CloudEvent:
        """Publish as an outside system would: a CloudEvent keyed by the contract id, in
        the contract's trace."""
        if self._producer is None:
            self._producer = KafkaEventProducer(self.bootstrap, "contractflow-demo-monitoring")
        event = CloudEvent(
            type=event_type,
            source="/demo/monitoring",
            subject=contract_id,
            data=data,
            traceparent=contract_traceparent(contract_id),
        )
        topic = self.prefix + self.catalogue.get(event_type).topic
        headers = [("content-type", CONTENT_TYPE.encode())]
        self._producer.publish([(topic, contract_id.encode(), event.to_json(), headers)])
        return event


DEAD_LETTER_SERVICES = ("negotiation", "approval", "renewal", "erp_connector")
