"""One LISTEN connection per process and database, shared by every job that waits on a channel.

A worker's mail sender, timer job and task jobs each wait for their own NOTIFY channel
(the relay LISTENs on its own statement's connection: contractflow.events.relay_connection).
Each held a LISTEN connection of its own: five in an approval worker, 45 for three services
of three replicas, against a PostgreSQL whose `max_connections` the pools need.
Here one thread per database owns the connection, LISTENs on the channels its subscribers
want and sets the event of each subscriber of a channel that was notified. Only that thread
touches the connection (closing a psycopg connection under another thread's `notifies()`
frees libpq under it).

Nothing is missed by an outage: when the connection is re-established every subscriber is
woken once, so each looks again at what it waits for; while there is none, waits poll.
`subscribe` returns once its channel's LISTEN is in place (or after a few seconds without a
connection), so a job's first wait hears every commit after it subscribed, as the job's own
connection did, and no job is woken for nothing.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from typing import Any

from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

_RECONNECT_S = 1.0
_SUBSCRIBE_WAIT_S = 5.0
_registry_lock = threading.Lock()  # guards _listeners and every listener's subscriber sets
_listeners: dict[str, SharedListener] = {}


class Subscription:
    """One job's interest in one channel: `wait` returns once it was notified."""

    def __init__(self, listener: SharedListener, channel: str) -> None:
        self.listener, self.channel = listener, channel
        self._woken = threading.Event()
        self.listened = threading.Event()  # its channel's LISTEN has taken effect

    def wait(self, timeout_s: float, poll_s: float) -> None:
        if not self.listener.listening:
            timeout_s = min(timeout_s, poll_s)  # no connection: nothing would wake us
        if self._woken.wait(timeout_s):
            self._woken.clear()

    def wake(self) -> None:
        self._woken.set()

    def close(self) -> None:
        self.listener.unsubscribe(self)
        self._woken.set()  # a wait under way ends now


def subscribe(url: URL, channel: str) -> Subscription:
    key = url.render_as_string(hide_password=False)
    with _registry_lock:
        listener = _listeners.get(key)
        if listener is None:
            listener = _listeners[key] = SharedListener(key, url)
            listener.start()
        subscription = Subscription(listener, channel)
        listener.subscribers.setdefault(channel, set()).add(subscription)
    listener.nudge()  # LISTEN on a new channel, from the listener's thread
    subscription.listened.wait(_SUBSCRIBE_WAIT_S)
    return subscription


class SharedListener:
    def __init__(self, key: str, url: URL) -> None:
        self.key, self.url = key, url
        self.subscribers: dict[str, set[Subscription]] = {}
        self.listening = False
        self._conn: Any = None
        self._connected_before = False
        self._listened: set[str] = set()
        self._nudge_reader, self._nudge_writer = socket.socketpair()
        self._nudge_reader.setblocking(False)
        self._thread = threading.Thread(target=self._run, name="pg-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def listens_on(self, channel: str) -> bool:
        return self.listening and channel in self._listened

    def nudge(self) -> None:
        with contextlib.suppress(OSError):
            self._nudge_writer.send(b"x")

    def unsubscribe(self, subscription: Subscription) -> None:
        with _registry_lock:
            self.subscribers.get(subscription.channel, set()).discard(subscription)
        self.nudge()

    def _run(self) -> None:
        try:
            while True:
                try:
                    if not self._listen_and_dispatch():
                        return  # the last subscriber left
                except Exception:
                    if self.listening:
                        log.warning("LISTEN connection failed; waits poll", exc_info=True)
                    self._disconnect()
                    self._pause(_RECONNECT_S)
        finally:
            self._disconnect()
            self._nudge_reader.close()
            self._nudge_writer.close()

    def _wanted_channels(self) -> set[str] | None:
        """The channels someone waits on; None (and out of the registry) when nobody does."""
        with _registry_lock:
            wanted = {channel for channel, subs in self.subscribers.items() if subs}
            if not wanted:
                _listeners.pop(self.key, None)
                return None
            return wanted

    def _listen_and_dispatch(self) -> bool:
        """One round: LISTEN as subscribers want, wait, wake whoever was notified. False
        once nobody subscribes any more."""
        wanted = self._wanted_channels()
        if wanted is None:
            return False
        if self._conn is None:
            self._conn = self._connect()
            self._listened = set()
            self.listening = True
            if self._connected_before:
                self._wake(None)  # what the outage dropped: everyone looks again
            self._connected_before = True
        for channel in wanted - self._listened:
            self._conn.execute(f"LISTEN {channel}")
        for channel in self._listened - wanted:
            self._conn.execute(f"UNLISTEN {channel}")
        self._listened = wanted
        self._mark_listened(wanted)
        fileno = self._conn.fileno()
        readable, _, _ = select.select([fileno, self._nudge_reader], [], [], 30)
        if self._nudge_reader in readable:
            with contextlib.suppress(BlockingIOError):
                self._nudge_reader.recv(4096)
        if fileno in readable:
            notified = {n.channel for n in self._conn.notifies(timeout=0)}  # never blocks
            self._wake(notified)
        return True

    def _mark_listened(self, channels: set[str]) -> None:
        with _registry_lock:
            subscriptions = [s for c in channels for s in self.subscribers.get(c, ())]
        for subscription in subscriptions:
            subscription.listened.set()

    def _wake(self, channels: set[str] | None) -> None:
        """Wake the subscribers of `channels`, or all of them."""
        with _registry_lock:
            chosen = self.subscribers if channels is None else channels
            subscriptions = [s for c in chosen for s in self.subscribers.get(c, ())]
        for subscription in subscriptions:
            subscription.wake()

    def _connect(self) -> Any:
        import psycopg

        url = self.url
        return psycopg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            dbname=url.database,
            autocommit=True,
            application_name="contractflow-listener",
        )

    def _disconnect(self) -> None:
        self.listening = False
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to close cleanly
                self._conn.close()
            self._conn = None

    def _pause(self, seconds: float) -> None:
        """Wait before reconnecting; a nudge (a new subscriber, the last one leaving) ends it."""
        with contextlib.suppress(OSError):
            select.select([self._nudge_reader], [], [], seconds)
            with contextlib.suppress(BlockingIOError):
                self._nudge_reader.recv(4096)
