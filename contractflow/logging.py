"""Structured JSON logs carrying the event id and trace id of whatever is being handled.

A contextvar holds the current event's ids, so every line logged while handling it can be
joined across services by trace id without passing ids through every call.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from pythonjsonlogger.json import JsonFormatter

# The default is never mutated: log_context always sets a new dict.
_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar(
    "log_context",
    default={},  # noqa: B039
)


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            setattr(record, key, value)
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kafka-python is chatty at INFO about every reconnect; its warnings are enough.
    logging.getLogger("kafka").setLevel(logging.WARNING)
    # SpiffWorkflow logs every task state change at INFO (dozens of lines a step); the
    # runtime's history already records each step, and formatting those lines as JSON was
    # 7 % of negotiation's web CPU in the e2e bench.
    # Its own two loggers are set too: SpiffWorkflow asks `logger.level` (not the effective
    # level) before copying a task's data into every state change's log extras and walking
    # every task at a workflow's start and end, ~1.5 % of negotiation's web CPU left NOTSET.
    for name in ("spiff", "spiff.task", "spiff.workflow"):
        logging.getLogger(name).setLevel(logging.WARNING)
