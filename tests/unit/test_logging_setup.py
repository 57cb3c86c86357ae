"""A service's logging leaves SpiffWorkflow's per-task chatter out, at no cost per step."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from SpiffWorkflow.task import Task

from contractflow.logging import configure_logging


@pytest.fixture
def restored_logging():
    names = ("", "kafka", "spiff", "spiff.task", "spiff.workflow")
    saved = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in names}
    yield
    for name, (level, handlers) in saved.items():
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).handlers[:] = handlers


def test_task_state_changes_do_not_copy_the_task_data_into_log_extras(restored_logging):
    # SpiffWorkflow asks its own logger's level, not the effective one, before putting a
    # task's data into the extras of every state change: NOTSET on spiff.task meant a copy
    # of the data per change even though "spiff" was at WARNING.
    configure_logging("negotiation")
    task = mock.MagicMock()  # what collect_log_extras reads of a task
    task.data = {"terms": "a large document"}
    extras = Task.collect_log_extras(task)
    assert "data" not in extras
