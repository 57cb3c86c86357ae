"""Stopping a worker closes its relay's wake-up while the relay thread waits in it.

When close() shut the SQLite connection from the stopping thread, a wait reading
`PRAGMA data_version` on it at that moment crashed the interpreter (a segfault in CI, in
the broker-restart test). The race is run here many times in a child process, so that a
regression fails this test with the crash's report instead of killing the suite.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

RACE = textwrap.dedent(
    """
    import sqlite3, sys, threading, time
    from sqlalchemy import create_engine
    from contractflow.events.wakeup import RelayWakeup

    path = sys.argv[1]
    writer = sqlite3.connect(path, check_same_thread=False)
    writer.execute("PRAGMA journal_mode=WAL")  # as contractflow.db sets it
    writer.execute("CREATE TABLE t (x)")
    writer.commit()
    engine = create_engine(f"sqlite:///{path}")
    stop = threading.Event()

    def keep_committing():  # another process's commits, as the web's would be
        while not stop.is_set():
            writer.execute("INSERT INTO t VALUES (1)")
            writer.commit()

    threading.Thread(target=keep_committing, daemon=True).start()
    for attempt in range(400):
        wakeup = RelayWakeup(engine, poll_s=0)

        def relay_waits():
            while not wakeup._stopped.is_set():
                wakeup.wait(0.05)

        relay = threading.Thread(target=relay_waits)
        relay.start()
        time.sleep(0.0005 * (attempt % 7))
        wakeup.close()  # the stopping thread
        relay.join(5)
        if relay.is_alive():
            sys.exit(f"attempt {attempt}: the wait did not end after close()")
    stop.set()
    print("survived")
    """
)


def test_closing_the_wakeup_under_a_waiting_relay_never_crashes(tmp_path) -> None:
    child = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", RACE, str(tmp_path / "outbox.sqlite3")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0 and "survived" in child.stdout, (
        f"exit {child.returncode}\n{child.stderr[-3000:]}"
    )
