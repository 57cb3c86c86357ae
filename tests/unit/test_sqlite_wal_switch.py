"""Switching a fresh SQLite file to WAL waits out another connection holding it, and fails
at once for any other error or when the patience is spent."""

from __future__ import annotations

import sqlite3

import pytest

from contractflow.db import _switch_to_wal


class Cursor:
    def __init__(self, *failures: Exception) -> None:
        self.failures, self.calls = list(failures), 0

    def execute(self, statement: str) -> None:
        assert statement == "PRAGMA journal_mode=WAL"
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)


def test_a_locked_file_is_tried_again_until_it_switches():
    locked = sqlite3.OperationalError("database is locked")
    cursor = Cursor(locked, locked)
    _switch_to_wal(cursor)
    assert cursor.calls == 3


def test_any_other_error_is_raised_at_once():
    cursor = Cursor(sqlite3.OperationalError("disk I/O error"))
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _switch_to_wal(cursor)
    assert cursor.calls == 1


def test_after_the_patience_the_lock_error_itself_is_raised():
    cursor = Cursor(*[sqlite3.OperationalError("database is locked")] * 1000)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _switch_to_wal(cursor, patience_s=0.05)
    assert 1 < cursor.calls < 1000
