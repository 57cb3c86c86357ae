"""The compiled loader accepts only what marshmallow accepts and returns exactly what it
returns; everything else is left to marshmallow, so invalid data still names its fields."""

from __future__ import annotations

import random
from typing import Any

import pytest
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contractflow.events.catalogue import Catalogue, EventDataInvalid, EventType
from contractflow.events.schema_loader import NotFastLoadable, compile_loader
from contractflow.events.schemas import default_catalogue
from contractflow.events.schemas.contract import ContractSignedV1
from tests.integration.harness import signed_event

CATALOGUE_TYPES = [event_type.type for event_type in default_catalogue()]


def _exact(value: Any) -> Any:
    """A comparable form that also tells Decimal('1.0') from Decimal('1.00') and 1 from True."""
    if isinstance(value, dict):
        return {key: _exact(each) for key, each in value.items()}
    if isinstance(value, list):
        return [_exact(each) for each in value]
    return (type(value).__name__, repr(value))


def _outcome(loader: Any, schema: Schema, data: Any) -> tuple[str, Any]:
    try:
        expected = ("ok", _exact(schema.load(data)))
    except ValidationError as exc:
        expected = ("invalid", exc.messages)
    try:
        fast = ("ok", _exact(loader(data)))
    except NotFastLoadable:
        return expected, None
    return expected, fast


# Values a producer might send for a field of each kind: mostly well-formed, some not.
_GOOD = {
    fields.String: ["x", "user", "provider", "CNY", "0" * 64, "a@example.com", "", "合同"],
    fields.Email: ["a@example.com", "not-an-email"],
    fields.Integer: [0, 30, -1, 10**20],
    fields.Boolean: [True, False],
    fields.Date: ["2027-01-01", "2027-02-30", "2027-01-01T00:00:00"],
    fields.AwareDateTime: ["2026-12-20T10:00:00+08:00", "2026-12-20T10:00:00Z", "2026-12-20"],
    fields.Decimal: ["120000.00", "12.5", "12.345", "1e3", "NaN", "abc", 12, 12.5],
    fields.Dict: [{}, {"a": 1}, {"a": {"b": [1]}}],
}
_WRONG = ["1", 1, 1.5, True, False, None, [], {}, ["x"], "2027-01-01", "NaN"]


def _sample(field: fields.Field, rng: random.Random, noise: float) -> Any:
    if rng.random() < noise:
        return rng.choice(_WRONG)
    kind = type(field)
    if kind is fields.Nested:
        return _sample_schema(field.schema, rng, noise)
    if kind is fields.List:
        return [_sample(field.inner, rng, noise) for _ in range(rng.randint(0, 3))]
    pool = list(_GOOD.get(kind, _WRONG))
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            pool += list(validator.choices)
    if not noise:  # a clean sample: only values this field accepts
        pool = [value for value in pool if _accepts(field, value)] or pool
    return rng.choice(pool)


def _accepts(field: fields.Field, value: Any) -> bool:
    try:
        field.deserialize(value)
    except ValidationError:
        return False
    return True


def _sample_schema(schema: Schema, rng: random.Random, noise: float) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in schema.load_fields.items():
        roll = rng.random()
        if roll < noise / 2 or (not field.required and roll < 0.5):
            continue  # absent
        data[field.data_key or name] = _sample(field, rng, noise)
    if rng.random() < noise / 2:
        data["surprise"] = 1
    return data


@pytest.mark.parametrize("event_type", CATALOGUE_TYPES)
def test_every_catalogue_schema_compiles(event_type):
    assert compile_loader(default_catalogue().get(event_type).schema()) is not None


@pytest.mark.parametrize("event_type", CATALOGUE_TYPES)
def test_fast_load_agrees_with_marshmallow_on_random_data(event_type):
    schema = default_catalogue().get(event_type).schema()
    loader = compile_loader(schema)
    rng = random.Random(event_type)
    accepted = 0
    for _ in range(400):
        data = _sample_schema(schema, rng, noise=rng.choice([0, 0, 0.02, 0.1]))
        expected, fast = _outcome(loader, schema, data)
        if fast is not None:
            assert fast == expected, data
            accepted += 1
    assert accepted, "the fast path never applied: the sample generator is off"


def test_the_signed_contract_loads_fast_and_identically():
    schema = ContractSignedV1()
    loader = compile_loader(schema)
    data = signed_event().data
    assert _exact(loader(data)) == _exact(schema.load(data))


@pytest.mark.parametrize(
    "change",
    [
        {"notice_period_days": True},  # bool is not an integer to marshmallow
        {"notice_period_days": -1},  # fails Range
        {"notice_period_days": "30"},  # marshmallow accepts a numeric string
        {"total": {"amount": "1.005", "currency": "CNY"}},  # rounded to places=2
        {"total": {"amount": "1", "currency": "yuan"}},
        {"user": None},
        {"surprise": 1},
        {"payment_schedule": ({"due_date": "2027-01-01"},)},
    ],
)
def test_edge_cases_leave_the_decision_to_marshmallow(change):
    schema = ContractSignedV1()
    data = {**signed_event().data, **change}
    expected, fast = _outcome(compile_loader(schema), schema, data)
    assert fast is None or fast == expected


def test_invalid_data_still_names_its_fields_through_the_catalogue():
    catalogue = default_catalogue()
    event = signed_event()
    bad = event.with_data({**event.data, "total": {"amount": "x", "currency": "CNY"}, "extra": 1})
    with pytest.raises(EventDataInvalid) as caught:
        catalogue.load(bad)
    assert set(caught.value.fields) == {"total", "extra"}
    assert set(caught.value.fields["total"]) == {"amount"}


def test_a_schema_with_hooks_is_left_to_marshmallow():
    class Period(Schema):
        start = fields.Date(required=True)
        end = fields.Date(required=True)

        @validates_schema
        def ordered(self, data, **kwargs):
            if data["start"] > data["end"]:
                raise ValidationError("end before start", "end")

    assert compile_loader(Period()) is None
    catalogue = Catalogue([EventType("period.set", 1, "t", Period, "test")])
    event = signed_event().caused(
        "period.set.v1", "/t", {"start": "2027-02-01", "end": "2027-01-01"}
    )
    with pytest.raises(EventDataInvalid) as caught:
        catalogue.load(event)
    assert set(caught.value.fields) == {"end"}
