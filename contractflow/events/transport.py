"""The two ports the event plumbing needs from a broker, whatever the broker is.

The relay and the consumer loop only see `Producer` and `Consumer`; Kafka (kafka_bus) and
the in-memory broker (memory_bus, unit tests only) both implement them, so one test
suite proves the plumbing against either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

Headers = list[tuple[str, bytes]]
# (topic, key, value, headers) as handed to Producer.publish.
OutgoingMessage = tuple[str, bytes | None, bytes, Headers]


@dataclass(frozen=True)
class Record:
    """One message as consumed: where it came from and what it carries."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = field(default_factory=list)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace") if value is not None else None
        return None


class PublishFailed(RuntimeError):
    """Some messages of a batch were not acknowledged; `acknowledged` says how many were."""

    def __init__(self, acknowledged: int, cause: BaseException) -> None:
        super().__init__(f"publish failed after {acknowledged} acknowledged messages: {cause}")
        self.acknowledged = acknowledged
        self.cause = cause


class Producer(Protocol):
    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send (topic, key, value, headers) in order and wait until all are acknowledged.

        Raises PublishFailed naming how many of the leading messages were acknowledged.
        """

    def close(self) -> None: ...


class Consumer(Protocol):
    def poll(self, timeout_ms: int, max_records: int) -> list[Record]: ...

    def commit(self, next_offsets: dict[tuple[str, int], int]) -> None:
        """Commit, per (topic, partition), the offset of the next record to read."""

    def seek(self, positions: dict[tuple[str, int], int]) -> None:
        """Read from these offsets next: records after a failure are not skipped."""

    def close(self) -> None: ...
