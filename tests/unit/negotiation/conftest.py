from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.negotiation.support import Negotiation


@pytest.fixture
def negotiation(database_factory) -> Iterator[Negotiation]:
    service = Negotiation(database_factory("negotiation"))
    yield service
    service.close()
