"""An in-memory broker with Kafka's shape (partitions, offsets, group commits): unit tests only."""

from __future__ import annotations

import threading
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence

from contractflow.events.transport import Headers, OutgoingMessage, Record


class InMemoryBroker:
    def __init__(self, partitions: int = 3) -> None:
        self.partitions = partitions
        self._logs: dict[str, list[list[Record]]] = {}
        self._committed: dict[str, dict[tuple[str, int], int]] = defaultdict(dict)
        self._lock = threading.Lock()

    def create_topics(self, topics: Iterable[str]) -> None:
        with self._lock:
            for topic in topics:
                self._logs.setdefault(topic, [[] for _ in range(self.partitions)])

    def append(self, topic: str, key: bytes | None, value: bytes, headers: Headers) -> Record:
        with self._lock:
            if topic not in self._logs:
                raise KeyError(f"topic {topic!r} does not exist (topics are created explicitly)")
            partition = zlib.crc32(key) % self.partitions if key else 0
            log = self._logs[topic][partition]
            record = Record(topic, partition, len(log), key, value, list(headers))
            log.append(record)
            return record

    def records(self, topic: str) -> list[Record]:
        with self._lock:
            return [r for log in self._logs.get(topic, []) for r in log]

    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[Record]:
        with self._lock:
            return self._logs[topic][partition][offset : offset + limit]

    def committed(self, group: str) -> dict[tuple[str, int], int]:
        with self._lock:
            return dict(self._committed[group])

    def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        with self._lock:
            self._committed[group].update(offsets)


class InMemoryProducer:
    def __init__(self, broker: InMemoryBroker) -> None:
        self.broker = broker

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        for topic, key, value, headers in messages:
            self.broker.append(topic, key, value, headers)

    def close(self) -> None:
        pass


class InMemoryConsumer:
    """A lone group member owning every partition; starts from the group's committed offsets."""

    def __init__(self, broker: InMemoryBroker, group: str, topics: Iterable[str]) -> None:
        self.broker = broker
        self.group = group
        self.topics = sorted(topics)
        self._position = broker.committed(group)

    def poll(self, timeout_ms: int, max_records: int) -> list[Record]:
        out: list[Record] = []
        for topic in self.topics:
            for partition in range(self.broker.partitions):
                if len(out) >= max_records:
                    return out
                start = self._position.get((topic, partition), 0)
                batch = self.broker.read(topic, partition, start, max_records - len(out))
                if batch:
                    self._position[(topic, partition)] = batch[-1].offset + 1
                    out.extend(batch)
        return out

    def commit(self, next_offsets: dict[tuple[str, int], int]) -> None:
        self.broker.commit(self.group, next_offsets)

    def seek(self, positions: dict[tuple[str, int], int]) -> None:
        self._position.update(positions)

    def close(self) -> None:
        pass
