"""Whether an event type's data schema may change without a new version.

docs/event-schemas.lock.json holds, per event type version, its data schema as last
accepted (nested schemas written out). A change a consumer of that version could trip over
— a field removed, a field made required (or a new required one), a type or format
changed, an enum value dropped — is incompatible: it needs `<name>.v<n+1>` beside the old
version. Adding an optional field is compatible, and the lock follows it (`make asyncapi`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LOCK = Path("docs") / "event-schemas.lock.json"


def resolved_data_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """type -> its data schema with every $ref written out, from an AsyncAPI document."""
    schemas = document["components"]["schemas"]
    out = {}
    for type_, message in document["components"]["messages"].items():
        ref = message["payload"]["properties"]["data"]["$ref"]
        out[type_] = _resolve({"$ref": ref}, schemas, ())
    return out


def _resolve(node: Any, schemas: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, schemas, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name in seen:  # a recursive schema: keep the reference
            return {"$ref": ref}
        return _resolve(schemas[name], schemas, (*seen, name))
    return {key: _resolve(value, schemas, seen) for key, value in node.items()}


def incompatibilities(old: Any, new: Any, where: str = "data") -> list[str]:
    """What in `new` breaks a consumer written for `old` (empty when nothing does)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if old == new else [f"{where}: changed from {old!r} to {new!r}"]
    found: list[str] = []
    old_types, new_types = _types(old), _types(new)
    if old_types and new_types and not old_types <= new_types:
        found.append(f"{where}: type {sorted(old_types)} became {sorted(new_types)}")
    if old.get("format") != new.get("format"):
        found.append(f"{where}: format {old.get('format')!r} became {new.get('format')!r}")
    if "enum" in old and "enum" in new:
        dropped = [v for v in old["enum"] if v not in new["enum"]]
        if dropped:
            found.append(f"{where}: enum values dropped: {dropped}")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            found.append(f"{where}.{name}: field removed")
        else:
            found += incompatibilities(old_props[name], new_props[name], f"{where}.{name}")
    newly_required = set(new.get("required", ())) - set(old.get("required", ()))
    for name in sorted(newly_required):
        found.append(f"{where}.{name}: made required")
    if "items" in old and "items" in new:
        found += incompatibilities(old["items"], new["items"], f"{where}[]")
    return found


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        return set()
    return {declared} if isinstance(declared, str) else set(declared)


def read_lock(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def updated_lock(lock: dict[str, Any], current: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The lock with new types added and compatible changes taken; and every incompatible
    change, which stays out of the lock (so the suite keeps failing until it is versioned)."""
    problems: list[str] = []
    out = dict(lock)
    for type_, schema in current.items():
        if type_ in lock:
            found = incompatibilities(lock[type_], schema)
            if found:
                problems += [f"{type_}: {p}" for p in found]
                continue
        out[type_] = schema
    return dict(sorted(out.items())), problems
