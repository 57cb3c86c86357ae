from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.harness import KafkaBus, MemoryBus, ServicePair


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def bus(request: pytest.FixtureRequest) -> Iterator[MemoryBus | KafkaBus]:
    if request.param == "memory":
        bus: MemoryBus | KafkaBus = MemoryBus()
    else:
        bus = KafkaBus(request.getfixturevalue("kafka_bootstrap"))
    yield bus
    bus.close()


@pytest.fixture
def services(bus, database_factory, topic_prefix) -> Iterator[ServicePair]:
    pair = ServicePair(bus, database_factory, topic_prefix)
    yield pair
    pair.close()
