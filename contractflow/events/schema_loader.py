"""Loading event data through a marshmallow schema at a fraction of marshmallow's cost.

Every event is loaded twice on its way (by the outbox that records it and by each consumer),
and marshmallow's general machinery (error store, partial loading, hooks) was most of a
consumer's CPU per event. `compile_loader` walks a schema once and builds plain closures for
the shapes our catalogue uses. They only ever *accept* input that marshmallow accepts and
return exactly what it returns; anything they are not sure about (a wrong type, a missing
field, an unknown key, a failed validator, a field kind they do not know) makes them give
up, and the caller loads with marshmallow itself. So invalid data still fails with
marshmallow's own error messages, naming the fields, and goes to the dead-letter topic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.utils import missing

Loader = Callable[[Any], Any]


class NotFastLoadable(Exception):
    """This input (or schema) needs marshmallow's own loading."""


_GIVE_UP = NotFastLoadable()


def compile_loader(schema: Schema) -> Loader | None:
    """A function loading data exactly as `schema.load` does, or None for a schema it
    cannot follow faithfully. The function raises NotFastLoadable where it gives up."""
    try:
        return _schema_loader(schema, schema.unknown)
    except NotFastLoadable:
        return None


def _schema_loader(schema: Schema, unknown: str) -> Loader:
    hooks = schema._hooks
    if any(hooks.get(tag) for tag in (PRE_LOAD, POST_LOAD, VALIDATES, VALIDATES_SCHEMA)):
        raise NotFastLoadable
    if schema.many or schema.partial or unknown not in (RAISE, EXCLUDE):
        raise NotFastLoadable
    if schema.dict_class is not dict:
        raise NotFastLoadable
    # (input key, output key, loader of a present value, value when absent or None to skip)
    plan: list[tuple[str, str, Loader, bool]] = []
    for attr_name, field in schema.load_fields.items():
        data_key = field.data_key if field.data_key is not None else attr_name
        out_key = field.attribute or attr_name
        if "." in out_key:  # marshmallow would build nested dicts
            raise NotFastLoadable
        plan.append((data_key, out_key, _field_loader(field), _skippable_when_absent(field)))
    known = frozenset(data_key for data_key, *_ in plan)
    check_unknown = unknown == RAISE

    def load(data: Any) -> dict[str, Any]:
        if type(data) is not dict:
            raise _GIVE_UP
        if check_unknown and not known.issuperset(data):
            raise _GIVE_UP
        result = {}
        for data_key, out_key, load_value, skippable in plan:
            if data_key in data:
                result[out_key] = load_value(data[data_key])
            elif not skippable:
                raise _GIVE_UP  # required, or has a default: marshmallow decides
        return result

    return load


def _skippable_when_absent(field: fields.Field) -> bool:
    return not field.required and field.load_default is missing


def _field_loader(field: fields.Field) -> Loader:
    kind = type(field)
    if field.pre_load or field.post_load:
        if kind in _CONTEXT_FREE:
            return _marshmallow_field(field)
        raise NotFastLoadable
    if kind is fields.String:
        return _allow_none(field, _with_validators(field, _string))
    # Exact kinds only (a subclass may deserialize differently); isinstance narrows the type.
    if kind is fields.Integer and isinstance(field, fields.Integer) and not field.strict:
        return _allow_none(field, _with_validators(field, _integer))
    if (
        kind is fields.Boolean
        and isinstance(field, fields.Boolean)
        and True in field.truthy
        and False in field.falsy
    ):
        return _allow_none(field, _with_validators(field, _boolean))
    if (
        kind is fields.Nested
        and isinstance(field, fields.Nested)
        and not field.many
        and field.only is None
        and not field.exclude
    ):
        nested = field.schema
        unknown = field.unknown if field.unknown is not None else nested.unknown
        return _allow_none(field, _with_validators(field, _schema_loader(nested, unknown)))
    if kind is fields.List and isinstance(field, fields.List):
        inner = _field_loader(field.inner)

        def load_list(value: Any) -> list[Any]:
            if type(value) is not list:
                raise _GIVE_UP
            return [inner(each) for each in value]

        return _allow_none(field, _with_validators(field, load_list))
    if kind in _CONTEXT_FREE:
        return _marshmallow_field(field)
    raise NotFastLoadable  # e.g. Method or Function fields, which may read the parent data


# Field kinds whose deserialize depends on nothing but the value: safe to call on their own.
_CONTEXT_FREE = frozenset(
    {
        fields.AwareDateTime,
        fields.Boolean,
        fields.Date,
        fields.DateTime,
        fields.Decimal,
        fields.Dict,
        fields.Email,
        fields.Float,
        fields.Integer,
        fields.List,
        fields.Mapping,
        fields.NaiveDateTime,
        fields.Nested,
        fields.String,
        fields.Time,
        fields.Url,
        fields.UUID,
    }
)


def _string(value: Any) -> str:
    if type(value) is not str:
        raise _GIVE_UP
    return value


def _integer(value: Any) -> int:
    if type(value) is not int:  # bool is a subclass and marshmallow rejects it
        raise _GIVE_UP
    return value


def _boolean(value: Any) -> bool:
    if value is not True and value is not False:
        raise _GIVE_UP
    return value


def _with_validators(field: fields.Field, load_value: Loader) -> Loader:
    if not field.validators:
        return load_value
    validate = field._validate

    def load_and_validate(value: Any) -> Any:
        result = load_value(value)
        try:
            validate(result)
        except Exception:
            raise _GIVE_UP from None
        return result

    return load_and_validate


def _allow_none(field: fields.Field, load_value: Loader) -> Loader:
    if not field.allow_none:

        def load_not_none(value: Any) -> Any:
            if value is None:
                raise _GIVE_UP
            return load_value(value)

        return load_not_none

    def load_or_none(value: Any) -> Any:
        return None if value is None else load_value(value)

    return load_or_none


def _marshmallow_field(field: fields.Field) -> Loader:
    """A field kind we do not specialise: marshmallow's own per-field load, which is exact
    (minus the schema-level machinery that made loading slow). For a present value and no
    pre/post-load functions, `Field.deserialize` is `_deserialize` then the validators."""
    name = field.name
    if field.pre_load or field.post_load:

        def load_with_field(value: Any) -> Any:
            try:
                return field.deserialize(value, name, None)
            except Exception:
                raise _GIVE_UP from None

        return load_with_field

    deserialize = field._deserialize

    def load_value(value: Any) -> Any:
        try:
            return deserialize(value, name, None)
        except Exception:
            raise _GIVE_UP from None

    return _allow_none(field, _with_validators(field, load_value))
