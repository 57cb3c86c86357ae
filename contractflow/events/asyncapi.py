"""The event catalogue as an AsyncAPI 3.0 document: channels are topics, messages are the
CloudEvents types with their `data` schema (from the marshmallow schemas, through apispec),
operations say which party sends and which receives each one.

Generated, never written by hand: `make asyncapi` writes docs/asyncapi.yaml, every service
serves the same document at /asyncapi.json, and the suite fails when the committed file is
not what the code generates (tests/unit/events/test_asyncapi.py).

    python -m contractflow.events.asyncapi [--write docs/asyncapi.yaml]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from contractflow.contracts.schemas.decimals import decimal_text
from contractflow.events.catalogue import Catalogue, EventType
from contractflow.events.envelope import CONTENT_TYPE, SPECVERSION
from contractflow.events.parties import parties_of

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
DEFAULT_PREFIX = "contractflow."
DOCUMENT = Path("docs") / "asyncapi.yaml"

_TOPICS = {
    "contract": "A contract's life: signed, amended, terminated, renewed, extended, expiring…",
    "approval": "Approval requests and their decisions.",
    "erp": "Master data from the ERP (employees: the approver directory).",
    "service": "Supervision data: KPI reports and maintenance evidence per contract.",
    "workflow": "Workflow definitions deployed by the admin editor, signed.",
}


def build_asyncapi(catalogue: Catalogue, topic_prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    schemas = _data_schemas(catalogue)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type in catalogue:
        channel = channels.setdefault(
            event_type.topic,
            {
                "address": topic_prefix + event_type.topic,
                "description": _TOPICS.get(event_type.topic, ""),
                "messages": {},
            },
        )
        channel["messages"][event_type.type] = {"$ref": f"#/components/messages/{event_type.type}"}
        messages[event_type.type] = _message(event_type)
        parties = parties_of(event_type.name)
        for action, who in (("send", parties.publishers), ("receive", parties.consumers)):
            for party in who:
                verb = "publishes" if action == "send" else "consumes"
                operations[f"{party}.{verb}.{event_type.type}"] = {
                    "action": action,
                    "channel": {"$ref": f"#/channels/{event_type.topic}"},
                    "messages": [
                        {"$ref": f"#/channels/{event_type.topic}/messages/{event_type.type}"}
                    ],
                    "summary": f"{party} {verb} {event_type.type}",
                    "tags": [{"name": party}],
                }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "contractflow events",
            "version": "1",
            "description": (
                "Every event the contractflow services and an ERP exchange over Kafka. Each "
                "message is a CloudEvents 1.0 event in structured mode (the whole event as "
                "JSON in the value, content type application/cloudevents+json); the key is "
                "the contract id, so one contract's events stay in order on one partition. "
                "A type ends in its version (`contract.signed.v1`): an incompatible change "
                "makes a new version that lives beside the old one."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The broker `make up` starts (KRaft, plaintext).",
            }
        },
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"messages": messages, "schemas": schemas},
    }


def _message(event_type: EventType) -> dict[str, Any]:
    return {
        "name": event_type.type,
        "title": event_type.type,
        "summary": event_type.description,
        "contentType": CONTENT_TYPE,
        "payload": {
            "type": "object",
            "required": ["specversion", "id", "source", "type", "time", "data"],
            "properties": {
                "specversion": {"type": "string", "const": SPECVERSION},
                "id": {"type": "string", "description": "unique per event: deduplicate by it"},
                "source": {"type": "string", "description": "the sending service, e.g. /approval"},
                "type": {"type": "string", "const": event_type.type},
                "subject": {"type": "string", "description": "the contract id (also the key)"},
                "time": {"type": "string", "format": "date-time"},
                "datacontenttype": {"type": "string", "const": "application/json"},
                "traceparent": {
                    "type": "string",
                    "description": "W3C trace context: one contract's story is one trace",
                },
                "data": {"$ref": f"#/components/schemas/{_schema_name(event_type)}"},
            },
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "contract id"},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _schema_name(event_type: EventType) -> str:
    return event_type.schema.__name__.removesuffix("Schema")


def _data_schemas(catalogue: Catalogue) -> dict[str, Any]:
    """Every data schema and the schemas nested in them, as JSON Schema (apispec's OpenAPI
    3.0 output with `nullable` turned into a null type, which AsyncAPI's schema format has)."""
    names: dict[str, type] = {}

    def schema_name(schema: Any) -> str:
        """The class name; qualified by its module when two classes share it."""
        cls = schema if isinstance(schema, type) else type(schema)
        name = cls.__name__.removesuffix("Schema")
        if names.setdefault(name, cls) is not cls:
            name = f"{cls.__module__.rsplit('.', 1)[-1]}.{name}"
        return name

    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec("events", "1", "3.0.3", plugins=[plugin])
    assert plugin.converter is not None
    plugin.converter.add_attribute_function(decimal_text)
    for event_type in catalogue:
        name = _schema_name(event_type)
        if name not in spec.components.schemas:
            names[name] = event_type.schema
            spec.components.schema(name, schema=event_type.schema)
    found = spec.to_dict()["components"]["schemas"]
    return {name: _json_schema(found[name]) for name in sorted(found)}


def _json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    for bound in _NUMERIC_KEYWORDS & out.keys():  # a Decimal Range's bounds come as text
        out[bound] = _number(out[bound])
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else out["type"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


_NUMERIC_KEYWORDS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}


def _number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def render_yaml(document: dict[str, Any]) -> str:
    import yaml

    header = "# Generated by `make asyncapi` from contractflow/events: do not edit by hand.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def main(argv: list[str] | None = None) -> int:
    from contractflow.events import compatibility
    from contractflow.events.schemas import default_catalogue

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="write the YAML here instead of stdout")
    parser.add_argument(
        "--lock", type=Path, help="bring this schema lock up to date (refuses breaking changes)"
    )
    args = parser.parse_args(argv)
    document = build_asyncapi(default_catalogue())
    text = render_yaml(document)
    if args.write is None:
        sys.stdout.write(text)
    else:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text, encoding="utf-8")
    if args.lock is not None:
        current = compatibility.resolved_data_schemas(document)
        lock, problems = compatibility.updated_lock(compatibility.read_lock(args.lock), current)
        args.lock.write_text(json.dumps(lock, indent=1, ensure_ascii=False) + "\n", "utf-8")
        for problem in problems:
            print(
                f"incompatible, needs a new version of the event type: {problem}", file=sys.stderr
            )
        if problems:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
