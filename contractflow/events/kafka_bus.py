"""Kafka adapters for the transport ports (kafka-python), plus topic administration."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterable, Sequence

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka import errors as kafka_errors
from kafka.admin import NewTopic
from kafka.consumer.subscription_state import AsyncConsumerRebalanceListener
from kafka.structs import OffsetAndMetadata
from prometheus_client import CollectorRegistry, Counter

from contractflow.events.transport import OutgoingMessage, PublishFailed, Record

log = logging.getLogger(__name__)


class KafkaEventProducer:
    """Idempotent producer with acks=all: the broker drops retried duplicates and keeps order.

    One `publish` is bounded: a send blocks at most `send_timeout_s / 2` (metadata), and
    every record handed to the client is acknowledged or failed by the client itself
    within `send_timeout_s` of its send (Kafka's delivery timeout, also for requests in
    flight), so once `publish` returns nothing of that batch is still on its way.
    `max_publish_s` is that bound; the relay's lease outlives it.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        client_id: str,
        send_timeout_s: float = 10,
        *,
        rebuild_after_failures: int = 3,
        registry: CollectorRegistry | None = None,
    ) -> None:
        max_block_s = send_timeout_s / 2
        self.max_publish_s = max_block_s + send_timeout_s + 1.0  # + the sender's expiry check
        self._config = dict(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            max_in_flight_requests_per_connection=5,
            linger_ms=5,
            batch_size=262_144,  # a relay batch of ~1 KB events fits in few requests
            retries=2_147_483_647,
            delivery_timeout_ms=int(send_timeout_s * 1000),
            request_timeout_ms=int(send_timeout_s * 1000) // 2,
            max_block_ms=int(max_block_s * 1000),
            compression_type=None,
            # Client-side sensors nobody reads (our own counters are Prometheus'): ~10% of
            # the producer's CPU per relay batch.
            metrics_enabled=False,
        )
        # A kafka-python producer can stay wedged after a broker hiccup while a fresh one to
        # the same broker works: its idempotence state (producer id, epoch bump, sequence
        # numbers) or metadata never recovers, so every batch expires with KafkaTimeoutError
        # until the process restarts. After this many failed publishes in a row, the client
        # is closed and built anew.
        self.rebuild_after_failures = rebuild_after_failures
        self._failures_in_a_row = 0
        self._lock = threading.Lock()
        self.rebuilds = Counter(
            "kafka_producer_rebuilds_total",
            "Kafka producers closed and rebuilt after publishes kept failing",
            registry=registry,
        )
        self._producer: KafkaProducer | None = KafkaProducer(**self._config)

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        try:
            self._publish(self._current(), messages)
        except PublishFailed as exc:
            self._note_failure(exc)
            raise
        with self._lock:
            self._failures_in_a_row = 0

    def _publish(self, producer: KafkaProducer, messages: Sequence[OutgoingMessage]) -> None:
        futures = []
        try:
            for topic, key, value, headers in messages:
                futures.append(producer.send(topic, key=key, value=value, headers=headers))
            # Returns once every record is acknowledged or expired (delivery timeout).
            producer.flush(timeout=self.max_publish_s)
        except Exception as exc:
            raise PublishFailed(_acknowledged_prefix(futures), exc) from exc
        acknowledged = _acknowledged_prefix(futures)
        if acknowledged < len(messages):
            failed = futures[acknowledged]
            cause = failed.exception if failed.is_done else TimeoutError("not acknowledged in time")
            raise PublishFailed(acknowledged, cause)

    def _current(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                # The last rebuild could not reach the broker; try again now.
                try:
                    self._producer = KafkaProducer(**self._config)
                except Exception as exc:
                    raise PublishFailed(0, exc) from exc
            return self._producer

    def _note_failure(self, failure: PublishFailed) -> None:
        with self._lock:
            self._failures_in_a_row += 1
            if self._failures_in_a_row < self.rebuild_after_failures or self._producer is None:
                return
            stale, self._producer = self._producer, None
            failures, self._failures_in_a_row = self._failures_in_a_row, 0
        log.warning(
            "Kafka producer %s failed %d publishes in a row (last: %s); closing it and "
            "building a new one",
            self._config["client_id"],
            failures,
            failure.cause,
        )
        self.rebuilds.inc()
        # Another thread may be publishing on it: its records fail and are retried.
        _discard(stale)
        with contextlib.suppress(Exception), self._lock:
            if self._producer is None:
                self._producer = KafkaProducer(**self._config)

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=5)


def _discard(producer: KafkaProducer) -> None:
    """Close a wedged client without waiting for what it still holds.

    kafka-python's close() flushes first and raises once records are still pending, as
    they are on a wedged client, before it stops the I/O thread; that thread (and its
    sockets) would then outlive every rebuild. Force-closing it fails those records.
    """
    try:
        producer.close(timeout=0)
        return
    except Exception as exc:
        log.info("closing a wedged Kafka producer left records pending (%s); dropping them", exc)
    sender = getattr(producer, "_sender", None)
    if sender is None:
        log.warning("kafka-python internals changed: a wedged producer's thread may linger")
        return
    with contextlib.suppress(Exception):
        sender.force_close()  # its loop fails the pending records, then closes the client
        sender.join(5)
        producer.close(timeout=0)


def _log_commit_failure(offsets: object, response: object) -> None:
    if isinstance(response, Exception):
        log.warning("offset commit failed (the next commit covers it): %s", response)


def _acknowledged_prefix(futures: list) -> int:
    count = 0
    for future in futures:
        if not (future.is_done and future.succeeded()):
            break
        count += 1
    return count


LAG_EVERY_S = 1.0
# Offsets handled are sent to the broker at most this often (and always before a partition
# is given up and on close). A commit per poll was a request and its answer for every
# record at low rates, about a quarter of a consumer's CPU per event; a crash loses at most
# this much of the record of what was handled, and the inbox turns the redelivery into
# duplicates that change nothing.
COMMIT_EVERY_S = 0.5
# How long a commit that must be waited for (before a rebalance gives partitions away, on
# close) and close itself may take. kafka-python's own default for each is its request
# timeout, 30 s: a worker stopping while the coordinator did not answer took a minute
# (commit, then close), past the 30 s a pod gets between SIGTERM and SIGKILL. What is not
# committed in time is redelivered to the partition's next owner, and its inbox makes that
# a duplicate that changes nothing.
AWAITED_COMMIT_TIMEOUT_MS = 5_000


class KafkaEventConsumer:
    """A consumer-group member with auto-commit off: offsets move only when we say so."""

    def __init__(
        self,
        bootstrap_servers: str,
        group_id: str,
        topics: Iterable[str],
        client_id: str,
        max_bytes: int = 1_048_576,
        session_timeout_ms: int = 30_000,
    ) -> None:
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=max(max_bytes * 2, 1_048_576),
            # A member that dies without leaving holds its partitions this long.
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=max(session_timeout_ms // 10, 500),
            max_poll_interval_ms=300_000,
            # The broker answers a fetch as soon as data arrives on any of its partitions;
            # the wait only bounds an empty fetch. Each empty answer wakes the client's I/O
            # thread and the polling thread: at 200 ms (5 a second) an idle worker spent
            # ~2 % of a core on them, at 2 s ~0.2 %. What waits longer is only a partition
            # that becomes fetchable while a fetch is out (just assigned by a rebalance, or
            # rewound after a failure): it joins the next fetch, at most this much later.
            fetch_max_wait_ms=2000,
            # As the producer's: client-side sensors nobody reads, recorded on every fetch
            # response, commit and heartbeat by the client's I/O thread.
            metrics_enabled=False,
        )
        _keep_rejoins_pending(self._consumer)
        self._committed: dict[TopicPartition, OffsetAndMetadata] = {}
        self._unsent: dict[TopicPartition, OffsetAndMetadata] = {}
        self._sent_at = 0.0
        self._consumer.subscribe(sorted(topics), listener=_CommitBeforeRevoke(self))
        self._lag: dict[tuple[str, int], int] | None = None
        self._lag_read_at = 0.0

    def poll(self, timeout_ms: int, max_records: int) -> list[Record]:
        if self._unsent:
            due_in = self._sent_at + COMMIT_EVERY_S - time.monotonic()
            if due_in <= 0:
                self._send_commit()
            else:  # a quiet partition must not hold its handled offsets back for long
                timeout_ms = min(timeout_ms, int(due_in * 1000) + 1)
        batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        records = []
        for tp, messages in batches.items():
            for message in messages:
                records.append(
                    Record(
                        topic=tp.topic,
                        partition=tp.partition,
                        offset=message.offset,
                        key=message.key,
                        value=message.value,
                        headers=list(message.headers or []),
                    )
                )
        return records

    def commit(self, next_offsets: dict[tuple[str, int], int]) -> None:
        # Asynchronous and merged (COMMIT_EVERY_S): the DB commit already made the effects
        # durable and the inbox makes a redelivery harmless, so waiting for the broker's
        # acknowledgement here would only add a round trip to every batch. A failed commit
        # is retried by the next one.
        if next_offsets:
            offsets = {
                TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
                for (topic, partition), offset in next_offsets.items()
            }
            self._committed.update(offsets)
            self._unsent.update(offsets)  # sent by the next poll once COMMIT_EVERY_S is up

    def _send_commit(self) -> None:
        offsets, self._unsent = self._unsent, {}
        self._sent_at = time.monotonic()
        self._consumer.commit_async(offsets, callback=_log_commit_failure)

    async def commit_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Before partitions go to another member: what was handled on them, awaited, so
        their new owner does not start again from older offsets. Runs on the client's I/O
        loop (kafka-python 3 awaits an async rebalance listener there), hence the
        coordinator's own awaitable commit, the one it uses before a rebalance itself."""
        offsets = {tp: self._unsent.pop(tp) for tp in revoked if tp in self._unsent}
        if not offsets:
            return
        try:
            await self._consumer._coordinator._commit_offsets_sync_async(
                offsets, AWAITED_COMMIT_TIMEOUT_MS
            )
        except Exception:
            log.warning("offset commit before a rebalance failed; records will be redelivered")

    def assignment(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this member holds now."""
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def lag(self) -> dict[tuple[str, int], int]:
        """Per assigned partition, records behind the broker's last known high watermark
        (from the latest fetch: no request is made). Call from the polling thread.

        Read at most every `LAG_EVERY_S`, the answer kept in between: kafka-python's
        position() checks every assigned partition on each call, so reading 24 partitions
        costs 24 x 24 checks, ~5 ms of CPU, and the worker asks after each poll that brought
        records. At 20 events/s, one per poll, that was 69 % of the consumer thread's CPU
        (cProfile, negotiation's consumer ignoring contract.signed). A gauge scraped every
        15 s loses nothing to a second's delay.
        """
        now = time.monotonic()
        if self._lag is not None and now - self._lag_read_at < LAG_EVERY_S:
            return self._lag
        self._lag = self._read_lag()
        self._lag_read_at = now
        return self._lag

    def _read_lag(self) -> dict[tuple[str, int], int]:
        lags = {}
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue  # nothing fetched from it yet
            try:
                position = self._consumer.position(tp, timeout_ms=0)
            except Exception:
                continue
            if position is not None:
                lags[(tp.topic, tp.partition)] = max(highwater - position, 0)
        return lags

    def seek(self, positions: dict[tuple[str, int], int]) -> None:
        # A partition rebalanced away meanwhile is not ours to rewind: its new owner starts
        # from the committed offset, which never passes an unfinished record.
        assigned = self._consumer.assignment()
        for (topic, partition), offset in positions.items():
            tp = TopicPartition(topic, partition)
            if tp in assigned:
                self._consumer.seek(tp, offset)

    def close(self) -> None:
        # Commit what was handled, synchronously, so a clean shutdown redelivers nothing;
        # but within a bound, so a broker that does not answer cannot hold the shutdown.
        if self._committed:
            try:
                self._consumer.commit(self._committed, timeout_ms=AWAITED_COMMIT_TIMEOUT_MS)
            except Exception as exc:
                log.warning("offsets not committed on close (redelivered later): %s", exc)
        self._consumer.close(autocommit=False, timeout_ms=AWAITED_COMMIT_TIMEOUT_MS)


class _CommitBeforeRevoke(AsyncConsumerRebalanceListener):
    """Called by the client when a rebalance is about to take partitions away."""

    def __init__(self, consumer: KafkaEventConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self.consumer.commit_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        pass


def _keep_rejoins_pending(consumer: KafkaConsumer) -> None:
    """Make a rebalance started by a metadata change survive the poll that started it.

    kafka-python (3.0.12) decides a member must rejoin when the partitions it assigned
    differ from the metadata, but does not record it (Kafka's Java client does since
    KAFKA-9815). The first join of every member assigns from metadata not fetched yet, so
    a second join always follows; when its JoinGroup/SyncGroup outlives one `poll`
    timeout, the assignment just computed matches the metadata again, the next poll sees
    nothing to rejoin, never applies the result, and the member holds no partition until
    it restarts (its heartbeats stay off, so the broker drops it after the session
    timeout). Recording the rejoin as the flag the library clears only once a join
    completes keeps it pending until then.
    """
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None or not hasattr(coordinator, "request_rejoin"):
        log.warning("kafka-python internals changed: rejoin workaround not installed")
        return
    need_rejoin = coordinator.need_rejoin

    def need_rejoin_recorded() -> bool:
        if need_rejoin():
            coordinator.request_rejoin()
            return True
        return False

    coordinator.need_rejoin = need_rejoin_recorded


class TopicsNotCreated(RuntimeError):
    """The broker refused or did not finish creating some topics; `errors` names each one's."""

    def __init__(self, errors: dict[str, str]) -> None:
        listed = "; ".join(f"{topic}: {error}" for topic, error in sorted(errors.items()))
        super().__init__(f"{len(errors)} topics not created: {listed}")
        self.errors = errors


def ensure_topics(
    bootstrap_servers: str, topics: Iterable[str], partitions: int, replication: int = 1
) -> list[str]:
    """Create the topics that do not exist yet; returns the ones created.

    Raises TopicsNotCreated naming each topic the broker did not create and why (one
    created concurrently by someone else counts as present, not as an error).
    """
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="contractflow-admin")
    try:
        wanted = [t for t, found in _partitions(admin, set(topics)).items() if not found]
        if not wanted:
            return []
        # Every topic has its own error code in the answer: with raise_errors the client
        # raises on the first one only, so one "already exists" would hide that others
        # (e.g. a timed-out request on an overloaded broker) were never created.
        response = admin.create_topics(
            [
                NewTopic(t, num_partitions=partitions, replication_factor=replication)
                for t in wanted
            ],
            raise_errors=False,
        )
        answered = {topic["name"]: topic for topic in response["topics"]}
        created, errors = [], {}
        for name in wanted:
            topic = answered.get(name)
            if topic is None:
                errors[name] = "not in the broker's answer"
                continue
            error = kafka_errors.for_code(topic["error_code"])
            if error is kafka_errors.NoError:
                created.append(name)
            elif error is kafka_errors.TopicAlreadyExistsError:
                log.info("topic %s was created concurrently", name)
            else:
                errors[name] = (
                    f"{error.__name__}: {topic.get('error_message') or error.description}"
                )
        if errors:
            raise TopicsNotCreated(errors)
        return created
    finally:
        admin.close()


def partitions_of(bootstrap_servers: str, topics: Iterable[str]) -> dict[str, set[int]]:
    """Each topic's partition numbers (empty: no such topic, or not ready yet)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="contractflow-admin")
    try:
        return _partitions(admin, set(topics))
    finally:
        admin.close()


def _partitions(admin: KafkaAdminClient, topics: set[str]) -> dict[str, set[int]]:
    # Metadata of these topics only: a consumer's partitions_for_topic (and list_topics)
    # fetches every topic of the cluster, which on a broker of thousands of topics took
    # longer than the request timeout.
    found: dict[str, set[int]] = {t: set() for t in sorted(topics)}
    if found:
        for described in admin.describe_topics(list(found)):
            if described["error_code"] == 0:
                found[described["name"]] = {p["partition_index"] for p in described["partitions"]}
    return found


def broker_reachable(bootstrap_servers: str, timeout_ms: int = 2_000) -> bool:
    # A plain TCP connect first: a closed port answers at once, while the admin client
    # would spend its whole bootstrap timeout retrying.
    if not any(_accepts_tcp(server, timeout_ms / 1000) for server in bootstrap_servers.split(",")):
        return False
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            client_id="contractflow-readyz",
            request_timeout_ms=timeout_ms,
        )
    except Exception:
        return False
    try:
        admin.describe_cluster()
        return True
    except Exception:
        return False
    finally:
        admin.close()


def _accepts_tcp(server: str, timeout_s: float) -> bool:
    host, _, port = server.strip().rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
            return True
    except (OSError, ValueError):
        return False
