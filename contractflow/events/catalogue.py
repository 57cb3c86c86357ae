"""The event catalogue: every event type, its version, its topic and the schema of its data.

A CloudEvent's `type` is `<name>.v<version>` (e.g. `contract.signed.v1`): a breaking
change to the data makes a new version that lives beside the old one until every
producer has moved on, so consumers never meet a shape they were not written for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError

from contractflow.events.envelope import CloudEvent
from contractflow.events.schema_loader import Loader, NotFastLoadable, compile_loader


class UnknownEventType(LookupError):
    def __init__(self, type_: str) -> None:
        super().__init__(f"event type {type_!r} is not in the catalogue")
        self.type = type_


class EventDataInvalid(ValueError):
    """The event's data does not match its schema; `fields` maps each field to its errors."""

    def __init__(self, type_: str, event_id: str, fields: dict[str, Any]) -> None:
        names = ", ".join(sorted(str(name) for name in fields))
        super().__init__(f"event {event_id} of type {type_!r} has invalid data in: {names}")
        self.type = type_
        self.event_id = event_id
        self.fields = fields


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    topic: str
    schema: type[Schema]
    description: str

    @property
    def type(self) -> str:
        return f"{self.name}.v{self.version}"


class Catalogue:
    def __init__(self, event_types: Iterable[EventType] = ()) -> None:
        self._by_type: dict[str, EventType] = {}
        # Building a marshmallow schema costs more than loading with it: build each once.
        self._schemas: dict[str, Schema] = {}
        self._loaders: dict[str, Loader | None] = {}
        for event_type in event_types:
            self.register(event_type)

    def register(self, event_type: EventType) -> None:
        if event_type.type in self._by_type:
            raise ValueError(f"event type {event_type.type!r} is registered twice")
        self._by_type[event_type.type] = event_type

    def __iter__(self):
        return iter(sorted(self._by_type.values(), key=lambda e: e.type))

    def __contains__(self, type_: str) -> bool:
        return type_ in self._by_type

    def get(self, type_: str) -> EventType:
        try:
            return self._by_type[type_]
        except KeyError:
            raise UnknownEventType(type_) from None

    def topics(self) -> set[str]:
        return {event_type.topic for event_type in self._by_type.values()}

    def load(self, event: CloudEvent) -> dict[str, Any]:
        """The event's data loaded through its schema (Decimals, dates); raises on mismatch."""
        try:
            fast = self._loaders[event.type]
        except KeyError:
            fast = self._loaders[event.type] = compile_loader(self._schema(event.type))
        if fast is not None:
            try:
                return fast(event.data)
            except NotFastLoadable:
                pass  # marshmallow decides, and names the fields if the data is invalid
        try:
            return self._schema(event.type).load(event.data)
        except ValidationError as exc:
            raise EventDataInvalid(event.type, event.id, _as_dict(exc.messages)) from None

    def validate(self, event: CloudEvent) -> None:
        self.load(event)

    def _schema(self, type_: str) -> Schema:
        schema = self._schemas.get(type_)
        if schema is None:
            schema = self._schemas[type_] = self.get(type_).schema()
        return schema


def _as_dict(messages: Any) -> dict[str, Any]:
    return messages if isinstance(messages, dict) else {"_schema": messages}
