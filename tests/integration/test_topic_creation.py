"""Against the real broker: topics it refuses are named with its reason, none reported
created that does not exist."""

from __future__ import annotations

import pytest

from contractflow.events.kafka_bus import TopicsNotCreated, ensure_topics, partitions_of


@pytest.mark.kafka
def test_topics_the_broker_refuses_are_named_and_none_is_reported_created(
    kafka_bootstrap, topic_prefix
):
    # A single-broker cluster cannot hold 3 replicas: the broker refuses each topic.
    refused = {topic_prefix + "a", topic_prefix + "b"}
    with pytest.raises(TopicsNotCreated) as raised:
        ensure_topics(kafka_bootstrap, refused, partitions=1, replication=3)

    assert set(raised.value.errors) == refused
    assert all(e.startswith("InvalidReplicationFactorError") for e in raised.value.errors.values())
    assert partitions_of(kafka_bootstrap, refused) == {t: set() for t in refused}
    assert ensure_topics(kafka_bootstrap, refused, partitions=1) == sorted(refused)
