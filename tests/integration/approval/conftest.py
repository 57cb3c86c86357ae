from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.approval.support import ApprovalWorld


@pytest.fixture
def world(database_factory, topic_prefix, kafka_bootstrap) -> Iterator[ApprovalWorld]:
    world = ApprovalWorld(database_factory, topic_prefix, kafka_bootstrap)
    yield world
    world.close()
