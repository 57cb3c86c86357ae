from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.harness import MemoryBus
from tests.integration.renewal.support import RenewalWorld


@pytest.fixture
def world(database_factory, topic_prefix) -> Iterator[RenewalWorld]:
    world = RenewalWorld(database_factory, topic_prefix, MemoryBus())
    yield world
    world.close()
