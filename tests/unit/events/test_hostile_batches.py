"""The consumer loop never commits past an event it did not handle, whatever fails where.

A batch is built of records that each carry one fault (or none) — hostile bytes, a decoder
raising any exception, a handler failing for a while or for good, the dead-letter topic
unreachable, the process dying — at every position. The loop runs as the worker runs it
(an Exception is logged and the loop goes on; a crash restarts the consumer from the
committed offsets) and two things must hold: at every commit, each record below the
committed offset was handled or dead-lettered; at the end, every healthy event was applied
exactly once and every bad one is in the dead-letter topic once, with its reason.

`BatchRig` takes the bus, so the same scenarios run on real Kafka
(tests/integration/test_hostile_batches_kafka.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import sessionmaker

from contractflow.db import make_engine
from contractflow.events.batching import batchable
from contractflow.events.catalogue import Catalogue, EventType
from contractflow.events.consumer import ConsumerLoop, EventProcessor, RetryPolicy
from contractflow.events.deadletter import DeadLetterPublisher
from contractflow.events.envelope import CloudEvent
from contractflow.events.inbox import InboxMessage
from contractflow.events.memory_bus import InMemoryBroker, InMemoryConsumer, InMemoryProducer
from contractflow.events.transport import Consumer, Producer, PublishFailed, Record

EVENT_TYPE = "test.happened.v1"
MAX_ATTEMPTS = 3

# Bytes no decoder may let escape: each must become a dead letter with this reason.
HOSTILE: dict[str, tuple[bytes, str]] = {
    "deep-array": (b"[" * 50_000, "not-json"),
    "deep-object": (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "not-json"),
    "huge-int": (b'{"specversion":"1.0","id":"x","n":' + b"9" * 5_000 + b"}", "not-json"),
    "not-utf8": (b"\xff\xfe{}", "not-json"),
    "empty": (b"", "not-json"),
    "not-an-object": (b"[1, 2, 3]", "not-cloudevent"),
}
DECODER_ERRORS = (RecursionError, ValueError, KeyError, TypeError, OverflowError, MemoryError)


class SimulatedCrash(BaseException):
    """The process dying mid-batch: no `except Exception` catches it."""


class Happened(Schema):
    n = fields.Integer(required=True)


# Faults a record can carry; "ok" is none.
FAULTS = (
    "ok",
    "hostile",
    "decoder-raises",
    "handler-flaky",
    "handler-broken",
    "dead-letter-down",
    "crash-in-handler",
    "crash-in-decoder",
)
# Faults that leave the event applied; the others leave a dead letter with this reason.
APPLIED = {"ok", "handler-flaky", "crash-in-handler", "crash-in-decoder"}
REASON = {"decoder-raises": "undecodable", "handler-broken": "handler-failed"}


@dataclass
class Planned:
    position: int
    fault: str
    variant: int
    event_id: str
    value: bytes
    reason: str | None  # the dead letter's reason, None when the event is applied
    where: tuple[int, int] = (-1, -1)  # partition and offset, once published


@dataclass
class Bus:
    """What the rig needs from a broker: topics, a producer, consumers, and reading back."""

    create_topics: Callable[[set[str]], None]
    producer: Callable[[], Producer]
    consumer: Callable[[str, set[str]], Consumer]
    records: Callable[[str], list[Record]]


def memory_bus() -> Bus:
    broker = InMemoryBroker(partitions=3)
    return Bus(
        broker.create_topics,
        lambda: InMemoryProducer(broker),
        lambda group, topics: InMemoryConsumer(broker, group, topics),
        broker.records,
    )


@dataclass
class BatchRig:
    bus: Bus
    database_dir: Path
    prefix: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:12]}.")
    faults_left: dict[str, int] = field(default_factory=dict)
    dead_letter_failures_left: dict[tuple[int, int], int] = field(default_factory=dict)
    letters_published: set[tuple[int, int]] = field(default_factory=set)
    commits: int = 0
    polled: int = 0
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.topic = self.prefix + "happenings"
        self.dead_letter_topic = self.prefix + "deadletter.test"
        self.group = self.prefix + "consumer"
        self.bus.create_topics({self.topic, self.dead_letter_topic})
        url = f"sqlite:///{self.database_dir / f'rig-{uuid.uuid4().hex[:8]}.sqlite3'}"
        self.engine = make_engine(url)
        InboxMessage.__table__.create(self.engine)
        self.applied = Table(
            "applied",
            MetaData(),
            Column("row", Integer, primary_key=True, autoincrement=True),
            Column("event_id", String(64)),
        )
        self.applied.create(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.plan: list[Planned] = []

    # -- building the batch -------------------------------------------------------------

    def publish(self, faults: list[tuple[str, int]]) -> list[Planned]:
        messages = []
        for position, (fault, variant) in enumerate(faults):
            event = CloudEvent(
                type=EVENT_TYPE, source="/test", subject=f"S-{position}", data={"n": position}
            )
            value, reason = event.to_json(), REASON.get(fault)
            if fault == "hostile":
                value, reason = list(HOSTILE.values())[variant % len(HOSTILE)]
            elif fault == "dead-letter-down":
                value, reason = HOSTILE["deep-array"][0], "not-json"
            elif fault in ("handler-flaky", "crash-in-handler", "crash-in-decoder"):
                self.faults_left[event.id] = 1 + variant % (MAX_ATTEMPTS - 1)
            elif fault in ("decoder-raises", "handler-broken"):
                self.faults_left[event.id] = 10**6
            self.plan.append(Planned(position, fault, variant, event.id, value, reason))
            messages.append((self.topic, f"S-{position}".encode(), value, []))
        self.bus.producer().publish(messages)
        for planned, record in zip(self.plan, self._our_records(), strict=True):
            planned.where = (record.partition, record.offset)
            if planned.fault == "dead-letter-down":
                self.dead_letter_failures_left[planned.where] = 1 + planned.variant % 2
        return self.plan

    def _our_records(self) -> list[Record]:
        # Records in the order published (per partition offsets, matched by key).
        by_key = {r.key: r for r in self.bus.records(self.topic)}
        return [by_key[f"S-{p.position}".encode()] for p in self.plan]

    # -- the consumer stack, faults wired in -------------------------------------------

    def loop(self) -> ConsumerLoop:
        rig = self
        kinds = {p.event_id: p for p in self.plan}

        class FaultyCatalogue(Catalogue):
            def load(self, event: CloudEvent) -> dict[str, Any]:
                planned = kinds.get(event.id)
                if planned is not None and rig._take_fault(event.id):
                    if planned.fault == "decoder-raises":
                        raise DECODER_ERRORS[planned.variant % len(DECODER_ERRORS)]("injected")
                    if planned.fault == "crash-in-decoder":
                        raise SimulatedCrash
                return super().load(event)

        @batchable()
        def handle(session, event: CloudEvent, data: dict[str, Any]) -> None:
            planned = kinds[event.id]
            if planned.fault in ("handler-flaky", "handler-broken", "crash-in-handler") and (
                rig._take_fault(event.id)
            ):
                if planned.fault == "crash-in-handler":
                    raise SimulatedCrash
                raise RuntimeError(f"injected failure of {planned.fault}")
            session.execute(insert(rig.applied).values(event_id=event.id))

        class FlakyDeadLetters(DeadLetterPublisher):
            def publish(self, record, letter, now) -> None:
                where = (record.topic, record.partition, record.offset)
                if where[0] == rig.topic and rig.dead_letter_failures_left.get(where[1:], 0) > 0:
                    rig.dead_letter_failures_left[where[1:]] -= 1
                    raise PublishFailed(0, ConnectionError("dead-letter topic unreachable"))
                super().publish(record, letter, now)
                rig.letters_published.add((record.partition, record.offset))

        processor = EventProcessor(
            "test",
            self.sessions,
            FaultyCatalogue([EventType("test.happened", 1, self.topic, Happened, "a test event")]),
            {EVENT_TYPE: handle},
            FlakyDeadLetters(self.bus.producer(), self.dead_letter_topic, "test"),
            retry=RetryPolicy(max_attempts=MAX_ATTEMPTS, backoff_ms=0),
            max_event_bytes=200_000,
            sleep=lambda _s: None,
        )
        return ConsumerLoop(
            _CheckedCommits(self, self.bus.consumer(self.group, {self.topic})), processor
        )

    def _take_fault(self, event_id: str) -> bool:
        left = self.faults_left.get(event_id, 0)
        if left <= 0:
            return False
        self.faults_left[event_id] = left - 1
        return True

    # -- what happened -----------------------------------------------------------------

    def applied_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.scalars(select(self.applied.c.event_id)))

    def finished(self, partition: int, offset: int) -> bool:
        planned = next(p for p in self.plan if p.where == (partition, offset))
        if planned.reason is None:
            return planned.event_id in self.applied_ids()
        return (partition, offset) in self.letters_published

    def run(self, deadline_s: float = 60, idle_polls: int = 3) -> None:
        """Run the loop as the worker does until every record is finished; fails at once
        when an offset is committed too early, or when the consumer goes idle with records
        unfinished (they were skipped)."""
        loop = self.loop()
        end = time.monotonic() + deadline_s
        idle = 0
        while time.monotonic() < end:
            try:
                idle = 0 if loop.run_once(timeout_ms=100) else idle + 1
            except SimulatedCrash:
                loop.consumer.close()
                loop = self.loop()  # a new process: starts from the committed offsets
                idle = 0
            except Exception:
                idle = 0  # the worker logs it and runs the loop again
            assert not self.violations, self.violations[0]
            if all(self.finished(*p.where) for p in self.plan):
                loop.consumer.close()
                return
            if idle >= idle_polls and self.polled:
                loop.consumer.close()
                raise AssertionError(f"records skipped: {self._unfinished()}")
        loop.consumer.close()
        raise AssertionError(f"deadline passed; unfinished: {self._unfinished()}")

    def _unfinished(self) -> list[tuple[int, str]]:
        return [(p.position, p.fault) for p in self.plan if not self.finished(*p.where)]

    def assert_outcome(self) -> None:
        applied = self.applied_ids()
        for planned in self.plan:
            count = applied.count(planned.event_id)
            expected = 1 if planned.reason is None else 0
            assert count == expected, f"{planned.fault} at {planned.position}: applied {count}×"
        letters = [
            r
            for r in self.bus.records(self.dead_letter_topic)
            if r.header("dlq.original-topic") == self.topic
        ]
        by_origin = {}
        for letter in letters:
            where = (
                int(letter.header("dlq.original-partition")),
                int(letter.header("dlq.original-offset")),
            )
            assert where not in by_origin, f"two dead letters for {where}"
            by_origin[where] = letter
        bad = [p for p in self.plan if p.reason is not None]
        assert set(by_origin) == {p.where for p in bad}
        for planned in bad:
            letter = by_origin[planned.where]
            assert letter.header("dlq.reason") == planned.reason, planned.fault
            assert letter.header("dlq.error"), "a dead letter says what was wrong"
            assert letter.value == planned.value, "the original bytes are kept"


class _CheckedCommits:
    """Wraps the consumer: every commit is checked against what really was finished."""

    def __init__(self, rig: BatchRig, inner: Consumer) -> None:
        self.rig, self.inner = rig, inner

    def poll(self, timeout_ms: int, max_records: int) -> list[Record]:
        records = self.inner.poll(timeout_ms, max_records)
        self.rig.polled += len(records)
        return records

    def commit(self, next_offsets: dict[tuple[str, int], int]) -> None:
        for (topic, partition), next_offset in next_offsets.items():
            for planned in self.rig.plan:
                p, offset = planned.where
                ours = topic == self.rig.topic and p == partition and offset < next_offset
                if ours and not self.rig.finished(p, offset):
                    # Recorded, not raised: the loop swallows a failing commit.
                    self.rig.violations.append(
                        f"committed past {planned.fault} at position {planned.position} "
                        f"({partition}@{offset}) before it was handled or dead-lettered"
                    )
        self.rig.commits += 1
        self.inner.commit(next_offsets)

    def seek(self, positions: dict[tuple[str, int], int]) -> None:
        self.inner.seek(positions)

    def close(self) -> None:
        self.inner.close()


faults = st.lists(
    st.tuples(st.sampled_from(FAULTS), st.integers(min_value=0, max_value=11)),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=faults)
def test_any_mix_of_faults_in_a_batch_loses_nothing_and_applies_nothing_twice(batch, tmp_path):
    rig = BatchRig(memory_bus(), tmp_path)
    rig.publish(batch)
    rig.run()
    rig.assert_outcome()


@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "ok"])
@pytest.mark.parametrize("position", range(6))
def test_a_fault_at_every_position_of_a_healthy_batch(fault, position, tmp_path):
    batch = [("ok", 0)] * 6
    batch[position] = (fault, position)
    rig = BatchRig(memory_bus(), tmp_path)
    rig.publish(batch)
    rig.run()
    rig.assert_outcome()
    assert rig.commits > 0


def test_hostile_bytes_each_become_a_dead_letter_and_the_event_behind_is_handled(tmp_path):
    batch = [(kind, n) for n, kind in enumerate(["hostile"] * len(HOSTILE))] + [("ok", 0)]
    rig = BatchRig(memory_bus(), tmp_path)
    rig.publish(batch)
    rig.run()
    rig.assert_outcome()
    reasons = [
        json.dumps([r.header("dlq.reason"), r.header("dlq.error")])
        for r in rig.bus.records(rig.dead_letter_topic)
    ]
    assert any("nested deeper than" in r for r in reasons), reasons
    assert any("4300 digits" in r for r in reasons), reasons
