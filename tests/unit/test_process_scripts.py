"""scripts/lib.sh decides whether a service is running before `start` starts it again."""

from __future__ import annotations

import subprocess
from pathlib import Path

LIB = Path(__file__).resolve().parents[2] / "scripts" / "lib.sh"


def proc_running(pid: int, prelude: str = "") -> bool:
    script = f'source "{LIB}"; {prelude} proc_running {pid}'
    return subprocess.run(["bash", "-c", script], check=False).returncode == 0


def test_a_live_process_is_running() -> None:
    with subprocess.Popen(["sleep", "30"]) as sleeper:
        try:
            assert proc_running(sleeper.pid)
        finally:
            sleeper.kill()


def test_a_process_reaped_between_kill_0_and_its_state_read_is_not_running() -> None:
    """A killed worker's zombie can be reaped just after `kill -0` found it: its state is
    then unreadable. That counted as running, and `services.sh start` refused to start the
    worker again ("already running"), which the deployed e2e test caught in CI."""
    with subprocess.Popen(["true"]) as gone:
        gone.wait()
    # kill -0 still succeeding stands for the zombie that was there a moment before
    assert not proc_running(gone.pid, prelude="kill() { return 0; };")
