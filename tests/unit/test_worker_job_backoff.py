"""A worker job that fails backs off exponentially (0.4 s, 0.8 s, ... at most 10 s), starts
over after a success, and stops without another attempt once the worker is stopping."""

from __future__ import annotations

from contractflow.worker import PeriodicJob, Worker


class StopAfter:
    """The worker's stop event: records every wait, and is set after `waits` of them."""

    def __init__(self, waits: int) -> None:
        self.waits: list[float] = []
        self.left = waits

    def is_set(self) -> bool:
        return self.left <= 0

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.left -= 1
        return self.is_set()


def run(job: PeriodicJob, waits: int) -> list[float]:
    worker = Worker.__new__(Worker)  # only the job loop: no kernel, broker or threads
    worker._stop = stop = StopAfter(waits)  # type: ignore[assignment]
    worker._run(job)
    return stop.waits


def test_failures_back_off_doubling_up_to_ten_seconds():
    def failing() -> int:
        raise RuntimeError("database unavailable")

    assert run(PeriodicJob("failing", failing), waits=8) == [0.4, 0.8, 1.6, 3.2, 6.4, 10, 10, 10]


def test_a_success_starts_the_backoff_over_and_idle_waits_between():
    results = iter([RuntimeError("1"), RuntimeError("2"), 0, RuntimeError("3"), 5, 0])
    calls = []

    def flaky() -> int:
        calls.append(1)
        result = next(results)
        if isinstance(result, Exception):
            raise result
        return result

    waits = run(PeriodicJob("flaky", flaky, idle_s=1.0), waits=5)
    # Two failures, an idle wait after doing nothing, one failure backing off from the start
    # again, work done (no wait), then nothing to do: stopped during that idle wait.
    assert waits == [0.4, 0.8, 1.0, 0.4, 1.0]
    assert len(calls) == 6  # and no attempt after it
