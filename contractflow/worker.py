"""The worker process of a service: outbox relay, Kafka consumer and any periodic jobs.

Each loop runs in its own thread and survives its own failures with a backoff, so a broker
or database outage pauses the work instead of killing the process.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge
from tenacity import Retrying, retry_if_exception_type, wait_exponential

from contractflow.events.consumer import ConsumerLoop, EventProcessor, Outcome, RetryPolicy
from contractflow.events.deadletter import DeadLetterPublisher
from contractflow.events.kafka_bus import KafkaEventConsumer, KafkaEventProducer
from contractflow.events.relay import OutboxRelay
from contractflow.events.relay_connection import ListeningConnection
from contractflow.events.transport import Consumer, Producer
from contractflow.events.wakeup import RelayWakeup
from contractflow.metrics import BacklogCollector, WorkerEndpoint
from contractflow.service import ServiceKernel

log = logging.getLogger(__name__)
# How often an idle consumer re-reads its partitions' lag (a busy one does after each batch).
LAG_REFRESH_S = 15.0


@dataclass
class PeriodicJob:
    """Work the worker repeats, e.g. the workflow scheduler's tick; returns units of work done."""

    name: str
    run_once: Callable[[], int]
    idle_s: float = 0.5
    # How to wait when idle; by default a plain sleep that stop() interrupts.
    wait: Callable[[float], None] | None = None
    # Ends that wait at once and frees what it holds (a LISTEN connection); stop() calls it.
    close: Callable[[], None] | None = None
    # Starts hearing the commits that end that wait; run once, before the first look.
    listen: Callable[[], None] | None = None

    @classmethod
    def woken_by(
        cls, name: str, run_once: Callable[[], int], wakeup: Wakeup, idle_s: float
    ) -> PeriodicJob:
        """A job whose idle wait ends when `wakeup` hears a commit."""
        return cls(
            name, run_once, idle_s, wait=wakeup.wait, close=wakeup.close, listen=wakeup.listen
        )


class Wakeup(Protocol):
    """What a job's idle wait listens to (RelayWakeup, Coalesced, the timer job's wait)."""

    def wait(self, timeout_s: float) -> None: ...

    def close(self) -> None: ...

    def listen(self) -> None: ...


class Coalesced:
    """A job's idle wait on commit wake-ups (`RelayWakeup.wait`), run at most once per
    `gap_s`: a lone commit after a quiet spell is handled at once, while a burst of them
    (under load, one every few ms) becomes one run per gap instead of one per commit,
    each costing a transaction of its own. What commits during the gap is not lost: the
    wake-up reports it when the wait resumes."""

    def __init__(
        self,
        wait: Callable[[float], None],
        close: Callable[[], None],
        gap_s: float,
        listen: Callable[[], None] | None = None,
    ) -> None:
        self._wait, self._close, self.gap_s = wait, close, gap_s
        self._listen = listen
        self._closed = threading.Event()
        self._woken_at = float("-inf")

    def wait(self, timeout_s: float) -> None:
        gap = self.gap_s - (time.monotonic() - self._woken_at)
        if gap > 0:
            if self._closed.wait(min(gap, timeout_s)):
                return
            timeout_s -= gap
        self._wait(max(timeout_s, 0.0))
        self._woken_at = time.monotonic()

    def close(self) -> None:
        self._closed.set()
        self._close()

    def listen(self) -> None:
        if self._listen is not None:
            self._listen()


class Worker:
    def __init__(
        self,
        kernel: ServiceKernel,
        producer: Producer,
        consumer: Consumer | None,
        jobs: list[PeriodicJob] | None = None,
    ) -> None:
        settings = kernel.settings
        self.kernel = kernel
        self.producer = producer
        self.consumer = consumer
        # On PostgreSQL the relay LISTENs on the connection it runs its statement on
        # (relay_connection: one wake-up less per event); SQLite has no NOTIFY.
        self.wakeup: Wakeup
        if kernel.engine.dialect.name == "postgresql":
            self.wakeup = own = ListeningConnection(kernel.engine)
            connect = own.connect
        else:
            self.wakeup, connect = RelayWakeup(kernel.engine), None
        self.relay = OutboxRelay(
            kernel.sessions,
            producer,
            batch_size=settings.relay_batch_size,
            registry=kernel.registry,
            connect=connect,
        )
        self.jobs = [PeriodicJob.woken_by("outbox-relay", self._relaying, self.wakeup, idle_s=1.0)]
        if consumer is not None:
            processor = EventProcessor(
                kernel.consumer_group,
                kernel.sessions,
                kernel.catalogue,
                kernel.handlers,
                DeadLetterPublisher(
                    producer,
                    kernel.dead_letter_topic,
                    kernel.consumer_group,
                    max_bytes=settings.max_event_bytes,
                ),
                retry=RetryPolicy(settings.consumer_max_attempts, settings.consumer_backoff_ms),
                max_event_bytes=settings.max_event_bytes,
                registry=kernel.registry,
            )
            loop = ConsumerLoop(consumer, processor)
            self.jobs.append(PeriodicJob("event-consumer", self._consuming(loop), idle_s=0))
        self.jobs.extend(jobs or [])
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _relaying(self) -> int:
        published = self.relay.relay_once()
        # A cycle that ended on an empty fetch has nothing left to find: running another at
        # once (as for any job that did work) was a third statement per event at low rates.
        # What commits meanwhile is not lost: its NOTIFY ends the wait that follows.
        return 0 if self.relay.drained else published

    def _consuming(self, loop: ConsumerLoop) -> Callable[[], int]:
        lag = Gauge(
            "consumer_lag",
            "Records behind the partition's end, per assigned partition",
            ["topic", "partition"],
            registry=self.kernel.registry,
        )
        dead_letters = Counter(
            "dead_letters_total",
            "Consumed events set aside on the dead-letter topic",
            registry=self.kernel.registry,
        )
        measure = getattr(self.consumer, "lag", None)
        measured_at = -LAG_REFRESH_S
        shown: object = None

        def run_once() -> int:
            nonlocal measured_at, shown
            outcomes = loop.run_once()
            dead_letters.inc(sum(1 for o in outcomes if o is Outcome.DEAD_LETTERED))
            # The high watermarks come with fetched records, so an empty poll changed no
            # lag: measuring all partitions after each one was most of an idle consumer's
            # CPU. Still refreshed now and then, for partitions a rebalance moved away.
            now = time.monotonic()
            if measure is not None and (outcomes or now - measured_at >= LAG_REFRESH_S):
                measured_at = now
                behind_by = measure()
                if behind_by is not shown:  # the consumer keeps its answer for a while
                    shown = behind_by
                    lag.clear()  # partitions move between replicas on a rebalance
                    for (topic, partition), behind in behind_by.items():
                        lag.labels(topic, str(partition)).set(behind)
            return len(outcomes)

        return run_once

    def endpoint(self) -> WorkerEndpoint:
        """The worker's /metrics, /healthz and /readyz (database and Kafka reachable)."""
        backlogs = CollectorRegistry()
        backlogs.register(BacklogCollector(self.kernel.engine))
        return WorkerEndpoint(
            self.kernel.settings.worker_host,
            self.kernel.settings.worker_port,
            [self.kernel.registry, backlogs],
            self.kernel.readiness(kafka=True),
        )

    def _serve_endpoint(self) -> WorkerEndpoint | None:
        port = self.kernel.settings.worker_port
        if not port:
            return None
        try:
            endpoint = self.endpoint()
        except OSError as exc:
            # The work goes on without metrics; the probes on this port say so.
            log.error("cannot serve worker metrics and probes on port %d: %s", port, exc)
            return None
        endpoint.start()
        log.info("worker metrics and probes on port %d", endpoint.port)
        return endpoint

    def start(self) -> None:
        for job in self.jobs:
            thread = threading.Thread(target=self._run, args=(job,), name=job.name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, job: PeriodicJob) -> None:
        # A failing job backs off 0.4 s, 0.8 s, ... up to 10 s, and starts over after one
        # success; the waits end early on stop, and no attempt starts once stopping.
        def pause(seconds: float) -> None:
            self._stop.wait(seconds)

        retrying = Retrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential(multiplier=0.4, max=10),
            sleep=pause,
            before_sleep=lambda state: log.error(
                "%s failed (%d in a row); backing off",
                job.name,
                state.attempt_number,
                exc_info=state.outcome.exception() if state.outcome else None,
            ),
        )

        def run_once_then_idle() -> None:
            if self._stop.is_set():
                return
            done = job.run_once()
            if not done and job.idle_s:
                (job.wait or self._stop.wait)(job.idle_s)

        if job.listen is not None and not self._stop.is_set():
            try:
                job.listen()
            except Exception:  # its first wait tries again
                log.warning("%s could not start listening for commits", job.name, exc_info=True)
        while not self._stop.is_set():
            retrying(run_once_then_idle)

    def stop(self) -> None:
        self._stop.set()
        for job in self.jobs:
            if job.close is not None:
                job.close()
        for thread in self._threads:
            thread.join(timeout=30)
        try:
            self.relay.release()
        except Exception:
            log.warning("could not release the relay lease; it will expire", exc_info=True)
        if self.consumer is not None:
            self.consumer.close()
        self.producer.close()

    def run_until_signalled(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._stop.set())
        endpoint = self._serve_endpoint()
        self.start()
        self._stop.wait()
        log.info("stopping worker")
        self.stop()
        if endpoint is not None:
            endpoint.stop()


def kafka_worker(kernel: ServiceKernel) -> Worker:
    settings = kernel.settings
    client_id = f"{kernel.service}-worker"
    producer = KafkaEventProducer(
        settings.kafka_bootstrap_servers, client_id, registry=kernel.registry
    )
    topics = kernel.subscribed_topics()
    consumer = (
        KafkaEventConsumer(
            settings.kafka_bootstrap_servers,
            kernel.consumer_group,
            topics,
            client_id,
            max_bytes=settings.max_event_bytes,
            session_timeout_ms=settings.consumer_session_timeout_ms,
        )
        if topics
        else None
    )
    return Worker(kernel, producer, consumer, [make(producer) for make in kernel.jobs])
