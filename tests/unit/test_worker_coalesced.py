"""A job woken by commits runs at once after a quiet spell, but a burst of commits (one
every millisecond, as under load) costs one run per gap, not one per commit; and nothing
committed during a gap is missed."""

from __future__ import annotations

import threading
import time

from contractflow.worker import Coalesced


class Commits:
    """A wake-up like RelayWakeup: wait() returns once something committed since the last
    return (at once if it did meanwhile), or at its timeout."""

    def __init__(self) -> None:
        self._pending = threading.Event()
        self.closed = False

    def commit(self) -> None:
        self._pending.set()

    def wait(self, timeout_s: float) -> None:
        if self._pending.wait(timeout_s):
            self._pending.clear()

    def close(self) -> None:
        self.closed = True


def test_a_lone_commit_is_handled_at_once_and_a_burst_coalesces() -> None:
    commits = Commits()
    woken = Coalesced(commits.wait, commits.close, gap_s=0.2)
    runs: list[float] = []
    stop = threading.Event()

    def job_loop() -> None:  # the worker's loop: run, then the idle wait
        while not stop.is_set():
            runs.append(time.monotonic())
            woken.wait(30)

    thread = threading.Thread(target=job_loop)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and time.monotonic() - runs[0] < 0.3:
            time.sleep(0.01)  # quiet for longer than the gap
        assert len(runs) == 1
        committed = time.monotonic()
        commits.commit()
        while len(runs) < 2 and time.monotonic() < deadline:
            time.sleep(0.001)
        assert runs[1] - committed < 0.1, "a lone commit after a quiet spell runs at once"

        burst_start = time.monotonic()
        last_commit = burst_start
        while last_commit - burst_start < 1.0:  # a commit every millisecond for 1 s
            last_commit = time.monotonic()
            commits.commit()
            time.sleep(0.001)
        while runs[-1] < last_commit and time.monotonic() < deadline + 2:
            time.sleep(0.01)
        during = [r for r in runs if r > burst_start]
        assert runs[-1] >= last_commit, "the last commit of the burst was handled"
        assert 3 <= len(during) <= 8, f"{len(during)} runs for ~1,000 commits in 1 s, gap 0.2 s"
    finally:
        stop.set()
        woken.close()
        commits.commit()
        thread.join(5)
    assert commits.closed and not thread.is_alive()
