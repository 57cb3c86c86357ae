"""Consuming events exactly once in effect: decode, dedupe in the inbox, handle, commit.

The steps for each record, in this order:
1. decode and validate the envelope and data — a malformed message goes straight to the
   dead-letter topic with its reason;
   (a healthy poll batch whose handlers are all `batchable` takes a fast path: every
   record's effects and inbox rows in one transaction; any failure, an inbox row already
   there included, rolls it back whole and the batch goes record by record)
2. in one transaction: claim the event's inbox row (skip if it is there already), then run
   the handler — a failing handler is retried with backoff, then dead-lettered; one that
   rejects the event (`EventRejected`) has it dead-lettered at once, with its reason;
3. only after the DB commit (or the dead letter is acknowledged) does the offset move.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from contractflow.db import utcnow
from contractflow.events import inbox, origin
from contractflow.events.batching import EventHandler
from contractflow.events.catalogue import Catalogue, EventDataInvalid, UnknownEventType
from contractflow.events.deadletter import DeadLetter, DeadLetterPublisher
from contractflow.events.envelope import CloudEvent, MalformedEvent
from contractflow.events.rejection import EventRejected
from contractflow.events.transport import Consumer, Record
from contractflow.logging import log_context

log = logging.getLogger(__name__)

# The database being unreachable says nothing about the message: keep it and wait.
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError)


class Outcome(enum.Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # a known event this service has no handler for
    DEAD_LETTERED = "dead-lettered"


class Undecodable(Exception):
    """A record that cannot become an event this service can handle; `reason` is the
    dead letter's `dlq.reason`, `detail` its `dlq.error`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _where(record: Record) -> tuple[str, int, int]:
    return record.topic, record.partition, record.offset


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_ms: int = 200
    max_backoff_ms: int = 10_000

    def delay_s(self, attempt: int) -> float:
        return min(self.backoff_ms * 2 ** (attempt - 1), self.max_backoff_ms) / 1000


class EventProcessor:
    """Handles one record completely; knows nothing about polling or offsets."""

    def __init__(
        self,
        consumer_name: str,
        sessions: sessionmaker[Session],
        catalogue: Catalogue,
        handlers: dict[str, EventHandler],
        dead_letters: DeadLetterPublisher,
        *,
        retry: RetryPolicy = RetryPolicy(),
        max_event_bytes: int = 1_000_000,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] = utcnow,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.consumer_name = consumer_name
        self.sessions = sessions
        self.catalogue = catalogue
        self.handlers = handlers
        self.dead_letters = dead_letters
        self.retry = retry
        self.max_event_bytes = max_event_bytes
        self.sleep = sleep
        self.clock = clock
        self._attempts_made: dict[str, int] = {}
        self.outcomes = Counter(
            "events_consumed_total", "Consumed events by outcome", ["outcome"], registry=registry
        )

    def process_batch(self, records: list[Record]) -> list[Outcome] | None:
        """Handle a whole poll batch in one transaction, the fast path for healthy traffic.

        Only when every record is well-formed and every handler involved is `batchable`;
        otherwise, or when anything fails, returns None having changed nothing, and the
        caller goes record by record with retries and dead letters.
        """
        decoded = []
        for record in records:
            try:
                event, data = self.decode(record)
            except Undecodable:
                return None
            decoded.append((record, event, data))
            handler = self.handlers.get(event.type)
            if handler is not None and not getattr(handler, "batchable", False):
                return None
        if not any(event.type in self.handlers for _, event, _ in decoded):
            # Nothing to record (ignored events get no inbox row): no transaction either.
            self.outcomes.labels(Outcome.IGNORED.value).inc(len(decoded))
            return [Outcome.IGNORED] * len(decoded)
        session = self.sessions()
        try:
            outcomes = self._handle_batch(session, decoded)
            session.commit()
        except Exception:
            session.rollback()
            log.info("batch of %d fell back to one-by-one handling", len(records), exc_info=True)
            return None
        finally:
            session.close()
        for outcome in outcomes:
            self.outcomes.labels(outcome.value).inc()
        return outcomes

    def _handle_batch(
        self, session: Session, decoded: list[tuple[Record, CloudEvent, dict[str, Any]]]
    ) -> list[Outcome]:
        # Optimistic about the inbox: a healthy batch holds no event handled before, so
        # instead of a query for them first, the inbox rows' primary key catches one at
        # insert, which rolls the whole batch back and it goes one by one, where each
        # event is looked up. (Copies within this batch are caught below, by `seen`.)
        seen: set[str] = set()
        fresh: dict[str, list[dict[str, Any]]] = {}
        for _, event, data in decoded:
            if event.type in self.handlers:
                fresh.setdefault(event.type, []).append(data)
        for event_type, batch in fresh.items():
            prefetch = getattr(self.handlers[event_type], "prefetch", None)
            if prefetch is not None:
                prefetch(session, batch)
        # Batchable handlers find rows by primary key (identity map), so the batch's
        # inserts can wait for one flush at commit; a row created twice in one batch fails
        # that commit and the batch is redone one by one.
        session.autoflush = False
        outcomes = []
        processed: list[dict[str, Any]] = []
        now = self.clock()
        for record, event, data in decoded:
            handler = self.handlers.get(event.type)
            if handler is None:
                outcomes.append(Outcome.IGNORED)
            elif event.id in seen:
                outcomes.append(Outcome.DUPLICATE)
            else:
                with log_context(event_id=event.id, trace_id=event.trace_id, event_type=event.type):
                    origin.handling(session, record)
                    try:
                        handler(session, event, data)
                    except Exception:
                        # That was this event's first attempt; the retries continue from it.
                        self._attempts_made[event.id] = 1
                        raise
                processed.append(
                    {
                        "consumer": self.consumer_name,
                        "event_id": event.id,
                        "event_type": event.type,
                        "topic": record.topic,
                        "partition": record.partition,
                        "offset": record.offset,
                        "processed_at": now,
                    }
                )
                seen.add(event.id)
                outcomes.append(Outcome.HANDLED)
        inbox.record_many_processed(session, processed)
        return outcomes

    def process(self, record: Record) -> Outcome:
        outcome = self._process(record)
        self.outcomes.labels(outcome.value).inc()
        return outcome

    def decode(self, record: Record) -> tuple[CloudEvent, dict[str, Any]]:
        """The record's event and its data loaded through the catalogue, or Undecodable.

        Whatever the bytes make the decoding raise is the message's fault, not ours: any
        exception here (a parser's RecursionError, a digit limit's ValueError, a bug a
        hostile value finds in a schema) becomes a reason to dead-letter it, so no message
        can escape the consumer's handling and take the events behind it along.
        """
        try:
            event = CloudEvent.from_json(record.value, max_bytes=self.max_event_bytes)
            if event.type not in self.handlers:
                # Ignored, so its data is not ours to judge; its type still is. A service
                # reads its own events on the topics it shares (negotiation its
                # contract.signed): loading each one's data was ~5 % of its worker's CPU.
                self.catalogue.get(event.type)
                return event, {}
            return event, self.catalogue.load(event)
        except MalformedEvent as exc:
            raise Undecodable(exc.reason, exc.detail) from exc
        except UnknownEventType as exc:
            raise Undecodable("unknown-type", str(exc)) from exc
        except EventDataInvalid as exc:
            raise Undecodable("invalid-data", f"{exc}: {exc.fields}") from exc
        except Exception as exc:
            log.warning("decoding %s[%d]@%d failed", *_where(record), exc_info=True)
            raise Undecodable("undecodable", f"{type(exc).__name__}: {exc}") from exc

    def _process(self, record: Record) -> Outcome:
        try:
            event, data = self.decode(record)
        except Undecodable as exc:
            return self._dead_letter(record, exc.reason, exc.detail, attempts=0)
        handler = self.handlers.get(event.type)
        if handler is None:
            return Outcome.IGNORED
        with log_context(event_id=event.id, trace_id=event.trace_id, event_type=event.type):
            return self._handle_with_retries(record, event, data, handler)

    def _handle_with_retries(
        self, record: Record, event: CloudEvent, data: dict[str, Any], handler: EventHandler
    ) -> Outcome:
        attempt = self._attempts_made.pop(event.id, 0)
        while True:
            attempt += 1
            try:
                return self._handle_once(record, event, data, handler)
            except INFRASTRUCTURE_ERRORS as exc:
                log.warning("database unavailable, will retry event %s: %s", event.id, exc)
                self.sleep(self.retry.delay_s(min(attempt, 8)))
                attempt -= 1  # not the message's fault: does not count towards dead-lettering
            except EventRejected as exc:  # no retry can change the verdict
                return self._dead_letter(record, exc.reason, exc.detail, attempts=attempt)
            except Exception as exc:
                log.warning(
                    "handler failed for event %s (attempt %d of %d)",
                    event.id,
                    attempt,
                    self.retry.max_attempts,
                    exc_info=True,
                )
                if attempt >= self.retry.max_attempts:
                    error = f"{type(exc).__name__}: {exc}"
                    return self._dead_letter(record, "handler-failed", error, attempts=attempt)
                self.sleep(self.retry.delay_s(attempt))

    def _handle_once(
        self, record: Record, event: CloudEvent, data: dict[str, Any], handler: EventHandler
    ) -> Outcome:
        session = self.sessions()
        try:
            claimed = inbox.claim(
                session,
                self.consumer_name,
                event.id,
                event.type,
                record.topic,
                record.partition,
                record.offset,
            )
            if not claimed:
                session.rollback()
                return Outcome.DUPLICATE
            origin.handling(session, record)
            handler(session, event, data)
            session.commit()
            log.info("handled %s", event.type)
            return Outcome.HANDLED
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _dead_letter(self, record: Record, reason: str, error: str, attempts: int) -> Outcome:
        log.error(
            "dead-lettering %s[%d]@%d: %s: %s",
            record.topic,
            record.partition,
            record.offset,
            reason,
            error,
        )
        self.dead_letters.publish(record, DeadLetter(reason, error, attempts), self.clock())
        return Outcome.DEAD_LETTERED


class ConsumerLoop:
    """Polls a batch, processes it (whole or record by record), then commits what was completed.

    The one promise: an offset is committed only past records that were handled, skipped
    as duplicates or not ours, or dead-lettered. Whatever fails in between — a record, the
    batch path, the dead-letter topic — the partitions are rewound to their first
    unfinished record before anything else is polled, so nothing after it is skipped.
    """

    def __init__(self, consumer: Consumer, processor: EventProcessor, max_records: int = 500):
        self.consumer = consumer
        self.processor = processor
        self.max_records = max_records
        # Positions to seek to before the next poll: a rewind that could not be made yet.
        self._rewind: dict[tuple[str, int], int] = {}

    def run_once(self, timeout_ms: int = 500) -> list[Outcome]:
        if self._rewind:
            self.consumer.seek(self._rewind)
            self._rewind = {}
        records = self.consumer.poll(timeout_ms, self.max_records)
        if not records:
            return []
        outcomes: list[Outcome] = []
        done: dict[tuple[str, int], int] = {}
        try:
            batched = self.processor.process_batch(records)
            if batched is not None:
                done = {(r.topic, r.partition): r.offset + 1 for r in records}
                return batched
            for record in records:
                outcomes.append(self.processor.process(record))
                done[(record.topic, record.partition)] = record.offset + 1
        except BaseException:
            self._rewind_unfinished(records, done)
            raise
        finally:
            self._commit(done)
        return outcomes

    def _rewind_unfinished(self, records: list[Record], done: dict[tuple[str, int], int]) -> None:
        # E.g. the dead-letter topic was unreachable: every partition of the batch goes back
        # to its first unfinished record.
        rewind: dict[tuple[str, int], int] = {}
        for record in records:
            partition = (record.topic, record.partition)
            if record.offset >= done.get(partition, 0) and partition not in rewind:
                rewind[partition] = record.offset
        self._rewind = rewind
        try:
            self.consumer.seek(rewind)
        except Exception:
            log.warning("rewind failed; retried before the next poll", exc_info=True)
        else:
            self._rewind = {}

    def _commit(self, done: dict[tuple[str, int], int]) -> None:
        if not done:
            return
        try:
            self.consumer.commit(done)
        except Exception:
            # Rebalanced away or broker gone: the next owner re-reads these records and
            # the inbox turns them into duplicates, so nothing is applied twice.
            log.warning("offset commit failed; records will be redelivered", exc_info=True)
