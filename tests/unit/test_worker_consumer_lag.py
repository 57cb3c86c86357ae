"""The worker's consumer_lag gauge is measured after each poll that brought records, and
only now and then after empty ones: measuring every partition after each empty poll was
most of what an idle worker's consumer thread spent."""

from __future__ import annotations

from types import SimpleNamespace

from prometheus_client import CollectorRegistry

from contractflow.events.consumer import Outcome
from contractflow.worker import LAG_REFRESH_S, Worker


class Consumer:
    def __init__(self) -> None:
        self.behind = 0
        self.measured = 0

    def lag(self) -> dict[tuple[str, int], int]:
        self.measured += 1
        return {("t", 0): self.behind}


class Loop:
    """ConsumerLoop's run_once: answers the outcomes queued for each poll."""

    def __init__(self) -> None:
        self.polls: list[list[Outcome]] = []

    def run_once(self) -> list[Outcome]:
        return self.polls.pop(0) if self.polls else []


def test_lag_is_measured_after_records_and_not_after_every_empty_poll(monkeypatch) -> None:
    registry = CollectorRegistry()
    consumer, loop = Consumer(), Loop()
    worker = Worker.__new__(Worker)  # only the consumer job: no broker or database
    worker.kernel = SimpleNamespace(registry=registry)  # type: ignore[assignment]
    worker.consumer = consumer  # type: ignore[assignment]
    clock = [1000.0]
    monkeypatch.setattr("contractflow.worker.time.monotonic", lambda: clock[0])
    run_once = worker._consuming(loop)  # type: ignore[arg-type]

    def lag() -> float | None:
        return registry.get_sample_value("consumer_lag", {"topic": "t", "partition": "0"})

    consumer.behind = 3
    run_once()  # the first poll measures, records or not
    assert (consumer.measured, lag()) == (1, 3)
    for _ in range(20):
        clock[0] += 0.5
        run_once()
    assert consumer.measured == 1, "empty polls within the refresh interval measure nothing"

    consumer.behind = 1
    loop.polls.append([Outcome.HANDLED, Outcome.HANDLED])
    assert run_once() == 2
    assert (consumer.measured, lag()) == (2, 1), "a poll with records measures at once"

    consumer.behind = 0
    clock[0] += LAG_REFRESH_S
    run_once()  # idle, but the interval passed: e.g. a rebalance moved partitions
    assert (consumer.measured, lag()) == (3, 0)
