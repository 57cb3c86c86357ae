"""`contractflow topics ensure` reports what the broker did, topic by topic.

Seen: on an overloaded broker it printed "9 created" for topics that did not exist,
because one "already exists" answer hid the other topics' errors.
"""

from __future__ import annotations

import pytest

from contractflow.events import kafka_bus


class FakeAdmin:
    """Knows no topic yet; answers CreateTopics with the error codes it is given and, like
    kafka-python, with `raise_errors` raises only the first topic's error."""

    answers: dict[str, tuple[int, str | None]] = {}

    def __init__(self, **config) -> None:
        pass

    def describe_topics(self, names):
        return [{"name": n, "error_code": 3, "partitions": []} for n in names]

    def create_topics(self, new_topics, raise_errors=True, **kwargs):
        codes = [self.answers[t.name][0] for t in new_topics]
        if raise_errors and any(codes):
            raise kafka_bus.kafka_errors.for_code(next(c for c in codes if c))()
        return {
            "topics": [
                {"name": t.name, "error_code": code, "error_message": reason}
                for t in new_topics
                for code, reason in [self.answers[t.name]]
            ]
        }

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def admin(monkeypatch):
    monkeypatch.setattr(kafka_bus, "KafkaAdminClient", FakeAdmin)


def test_topics_the_broker_did_not_create_are_named_with_their_errors():
    FakeAdmin.answers = {
        "cf.a": (36, "Topic 'cf.a' already exists."),  # created concurrently: fine
        "cf.b": (7, None),  # RequestTimedOut: the overloaded broker
        "cf.c": (0, None),
        "cf.d": (38, "Unable to replicate the partition 3 time(s)"),
    }
    with pytest.raises(kafka_bus.TopicsNotCreated) as raised:
        kafka_bus.ensure_topics("127.0.0.1:1", FakeAdmin.answers, partitions=3)

    assert raised.value.errors == {
        "cf.b": "RequestTimedOutError: " + kafka_bus.kafka_errors.RequestTimedOutError.description,
        "cf.d": "InvalidReplicationFactorError: Unable to replicate the partition 3 time(s)",
    }
    assert "cf.b: RequestTimedOutError" in str(raised.value)
    assert str(raised.value).startswith("2 topics not created")


def test_only_topics_created_now_are_reported_created():
    FakeAdmin.answers = {"cf.a": (36, "Topic 'cf.a' already exists."), "cf.c": (0, None)}
    assert kafka_bus.ensure_topics("127.0.0.1:1", FakeAdmin.answers, partitions=3) == ["cf.c"]
