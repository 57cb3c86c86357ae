"""Two relays of one service while the broker connection of the lease holder stalls: the
lease outlives the stalled publish, so the other relay publishes nothing until the holder
lets go, and nothing of the stalled batch reaches the topic afterwards (order kept)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import pytest
from kafka.net.inet import KafkaNetSocket

from contractflow.db import make_engine, make_session_factory, unit_of_work
from contractflow.events.kafka_bus import KafkaEventProducer, ensure_topics
from contractflow.events.outbox import Outbox
from contractflow.events.relay import OutboxRelay
from contractflow.events.schemas import default_catalogue
from contractflow.events.topic_reader import read_topic
from contractflow.events.transport import PublishFailed
from contractflow.migrate import upgrade
from tests.integration.harness import signed_event

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.parametrize(
        "database_factory", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
    ),
]


class StallingProxy:
    """A TCP forwarder to the broker; while stalled it forwards nothing either way, as a
    hung broker connection does. `heal` drops the hung connections (what a real network
    does with them) and forwards again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        self.sockets: list[socket.socket] = []
        self.generation = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(src, dst, self.generation), daemon=True
                ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, generation: int) -> None:
        try:
            while data := src.recv(65536):
                self.flowing.wait()
                if generation != self.generation:
                    break  # held back during a stall: that connection is gone
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            sock.close()

    def stall(self) -> None:
        self.flowing.clear()

    def heal(self) -> None:
        self.generation += 1
        for sock in self.sockets:
            sock.close()
        self.sockets = []
        self.flowing.set()

    def close(self) -> None:
        self.heal()
        self.listener.close()


class Spans:
    """Wraps a producer, noting when each publish ran."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.max_publish_s = getattr(inner, "max_publish_s", 0.0)
        self.spans: list[tuple[float, float]] = []
        self.keys: list[str] = []

    def publish(self, messages) -> None:
        start = time.monotonic()
        try:
            self.inner.publish(messages)
            self.keys += [key.decode() for _, key, _, _ in messages]
        finally:
            self.spans.append((start, time.monotonic()))

    def close(self) -> None:
        self.inner.close()


class Recorder:
    """The second relay's broker: records what it was asked to publish, and when."""

    max_publish_s = 0.0

    def __init__(self) -> None:
        self.calls: list[tuple[float, list[str]]] = []

    def publish(self, messages) -> None:
        self.calls.append((time.monotonic(), [key.decode() for _, key, _, _ in messages]))

    def close(self) -> None:
        pass


@pytest.fixture
def stalling_broker(kafka_bootstrap, monkeypatch):
    host, _, port = kafka_bootstrap.split(",")[0].rpartition(":")
    proxy = StallingProxy(host, int(port))
    plain_lookup = KafkaNetSocket.dns_lookup

    def through_proxy(self, lookup_host, lookup_port, *args, **kwargs):
        # Every Kafka client of this test reaches the broker through the proxy.
        if int(lookup_port) == int(port):
            lookup_host, lookup_port = "127.0.0.1", proxy.port
        return plain_lookup(self, lookup_host, lookup_port, *args, **kwargs)

    monkeypatch.setattr(KafkaNetSocket, "dns_lookup", through_proxy)
    yield proxy
    proxy.close()


def test_a_stalled_publish_keeps_the_lease_and_the_other_relay_waits(
    database_factory, topic_prefix, kafka_bootstrap, stalling_broker
):
    engine = make_engine(database_factory("relay"))
    upgrade(engine, "negotiation")
    sessions = make_session_factory(engine)
    outbox = Outbox(default_catalogue(), topic_prefix)
    topic = outbox.topic_for("contract.signed.v1")
    ensure_topics(kafka_bootstrap, {topic}, partitions=1)

    def write(*keys: str) -> None:
        with unit_of_work(sessions) as session:
            for key in keys:
                outbox.record(session, signed_event(key))

    # A lease far shorter than a stalled publish: what the relay had before.
    short = dt.timedelta(seconds=0.5)
    stalled = Spans(KafkaEventProducer(kafka_bootstrap, "relay-a", send_timeout_s=2))
    first = OutboxRelay(sessions, stalled, holder="relay-a", lease_ttl=short)
    other_broker = Recorder()
    second = OutboxRelay(sessions, other_broker, holder="relay-b", lease_ttl=short)

    write("C-0")
    assert first.relay_once() == 1  # connected, metadata known

    stalling_broker.stall()
    write("C-1", "C-2", "C-3")
    failed: list[BaseException] = []

    def publish_stalled() -> None:
        try:
            first.relay_once()
        except PublishFailed as exc:
            failed.append(exc)

    holder = threading.Thread(target=publish_stalled)
    holder.start()
    while holder.is_alive():  # the other replica keeps trying, as its worker loop does
        second.relay_once()
        time.sleep(0.05)
    holder.join()

    start, end = stalled.spans[-1]
    assert failed, "the stalled publish failed"
    assert end - start <= stalled.max_publish_s, "the publish kept its bound"
    assert other_broker.calls == [], "no second relay published while the first was publishing"

    stalling_broker.heal()
    assert second.relay_once() == 0  # the holder's lease still runs
    first.release()  # its worker stops
    assert second.relay_once() == 3
    assert [keys for _, keys in other_broker.calls] == [["C-1", "C-2", "C-3"]]
    # Nothing of the stalled batch arrived late behind the other relay's rows.
    assert [r.key.decode() for r in read_topic(kafka_bootstrap, topic)] == ["C-0"]
    stalled.close()
    engine.dispose()
