"""Decimals and closed objects in the contract terms: the published schema says exactly what
the server takes, for many variants of each (hypothesis), and a number arrives exactly.

A value is sent the way a client sends it (JSON text, parsed as every HTTP body is); the
published schema of its field decides validity with the validator schemathesis uses
(jsonschema_rs, Draft 4 as OpenAPI 3.0), and the server must agree on every value.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import jsonschema_rs
import pytest
from flask import Blueprint
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, validate

from contractflow import untrusted_json
from contractflow.auth import TokenService
from contractflow.contracts.schemas import ContractTermsSchema, TermsJson, TermsValidationError
from contractflow.contracts.schemas import load_contract_terms as load
from contractflow.contracts.schemas.decimals import JSON_NUMBER_DIGITS, StrictDecimal
from contractflow.web import ServiceWeb, api_doc, create_service_app

RANGES = {
    "any": None,
    "non-negative": validate.Range(min=0),
    "positive": validate.Range(min=0, min_inclusive=False),
    "percent": validate.Range(min=0, max=100),
    "positive percent": validate.Range(min=0, max=100, min_inclusive=False),
    "index": validate.Range(min=-50, max=100),  # a renewal's price index
    "minutes": validate.Range(min=0, max=99_999_999),
}
FIELDS = {
    (name, places): StrictDecimal(max_places=places, validate=rule)
    if rule
    else StrictDecimal(max_places=places)
    for name, rule in RANGES.items()
    for places in (0, 1, 2, 3, 4)
}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def accepted(field: StrictDecimal, wire: str) -> bool:
    value = untrusted_json.loads(wire, keep_number_text=True)
    try:
        field.deserialize(value)
    except ValidationError:
        return False
    return True


def published_valid(field: StrictDecimal, wire: str) -> bool:
    return jsonschema_rs.Draft4Validator(field.json_schema()).is_valid(json.loads(wire))


decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: abs(d.adjusted()) < 30
)
spellings = st.one_of(
    decimals.map(str),  # 1.5E+3, -0.001, 12
    decimals.map(lambda d: f"{d:f}"),  # plain fixed point
    decimals.map(lambda d: f"0{d:f}"),  # a leading zero
    decimals.map(lambda d: f" {d:f}"),  # padded
    st.from_regex(r"\A-?[0-9٠-٩]{1,4}(\.[0-9]{0,6})?\Z"),  # other scripts' digits
    st.sampled_from(["", "-", ".5", "5.", "1e2", "NaN", "Infinity", "+1", "1_000", "0x10"]),
)


@SETTINGS
@given(key=st.sampled_from(sorted(FIELDS)), text=spellings)
@example(key=("positive", 2), text="0.00")
@example(key=("percent", 2), text="100.00")
@example(key=("percent", 2), text="100.01")
@example(key=("non-negative", 2), text="-0")
@example(key=("index", 2), text="-50.00")
@example(key=("index", 2), text="-50.01")
@example(key=("index", 2), text="-0.5")
@example(key=("minutes", 2), text="99999999.01")
def test_a_decimal_string_is_taken_exactly_when_the_published_schema_says_so(key, text):
    field = FIELDS[key]
    wire = json.dumps(text)
    assert accepted(field, wire) == published_valid(field, wire), (key, text)


numbers = st.one_of(
    decimals.map(lambda d: f"{d:f}"),  # as a client writes a decimal: 1234.50
    decimals.map(lambda d: f"{d:e}"),  # exponent form: 1.23450e+3
    st.floats(allow_nan=False, allow_infinity=False).map(repr),  # a double's shortest form
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)


@SETTINGS
@given(key=st.sampled_from(sorted(FIELDS)), number=numbers)
@example(key=("any", 2), number="0.30000000000000004")
@example(key=("any", 2), number="1234.5000000000000001")
@example(key=("any", 2), number="9999999999999.99")
@example(key=("any", 2), number="10000000000000")
@example(key=("positive", 3), number="0.001")
def test_a_json_number_is_taken_exactly_when_the_published_schema_says_so(key, number):
    field = FIELDS[key]
    if number.startswith("-0") and Decimal(number) == 0:
        number = number[1:]  # -0.0: the same number to every reader; not worth a rule
    if Decimal(repr(float(number))) == Decimal(number):
        assert accepted(field, number) == published_valid(field, number), (key, number)
    # Else a double cannot carry the digits as written: a validator that reads numbers as
    # doubles (jsonschema_rs) sees another number; the server reads the digits, and the
    # written number is what it must take exactly or refuse (the money test below).
    if accepted(field, number):
        loaded = field.deserialize(untrusted_json.loads(number, keep_number_text=True))
        assert loaded == Decimal(number), "a JSON number arrives as the decimal it was written"
        assert loaded.as_tuple().exponent <= 0 and "E" not in str(loaded)


@SETTINGS
@given(
    whole=st.integers(min_value=0, max_value=10**13 - 1),
    cents=st.integers(min_value=0, max_value=99),
    noise=st.integers(min_value=1, max_value=9),
    extra=st.integers(min_value=1, max_value=12),
)
def test_money_written_with_more_digits_than_cents_is_refused_not_rounded(
    whole, cents, noise, extra
):
    """Also where a double would round it back to a cent value: the digits decide."""
    amount = f"{whole}.{cents:02d}{'0' * (extra - 1)}{noise}"
    body = f'{{"fees": {{"fixed_monthly_fee": {{"amount": {amount}}}}}}}'
    with pytest.raises(TermsValidationError) as refused:
        load(untrusted_json.loads(body, keep_number_text=True))
    assert list(refused.value.errors) == ["fees.fixed_monthly_fee.amount"]
    assert "decimal places" in refused.value.errors["fees.fixed_monthly_fee.amount"][0]


def test_a_number_beyond_fifteen_digits_names_the_field_and_the_way_out():
    body = '{"fees": {"fixed_monthly_fee": {"amount": 12345678901234567.5}}}'
    with pytest.raises(TermsValidationError) as refused:
        load(untrusted_json.loads(body, keep_number_text=True))
    (message,) = refused.value.errors["fees.fixed_monthly_fee.amount"]
    assert "12345678901234567.5" in message and "decimal string" in message
    assert JSON_NUMBER_DIGITS == 15
    big = '{"fees": {"fixed_monthly_fee": {"amount": "12345678901234567.50"}}}'
    terms = load(untrusted_json.loads(big, keep_number_text=True))
    assert terms.fees.fixed_monthly_fee.amount == Decimal("12345678901234567.50")  # type: ignore[union-attr]


def test_booleans_are_not_decimals():
    for value in (True, False):
        with pytest.raises(ValidationError):
            FIELDS[("any", 2)].deserialize(value)


# -- closed objects ----------------------------------------------------------------------


def clauses(schema: Schema, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Schema]]:
    """Every object of the terms (itself, each clause, each nested object), with its path."""
    found = [(path, schema)]
    for name, field in schema.load_fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested) and isinstance(inner.schema, Schema):
            step = (*path, name, "0") if isinstance(field, fields.List) else (*path, name)
            found.extend(clauses(inner.schema, step))
    return found


CLAUSES = clauses(ContractTermsSchema())


def nest(path: tuple[str, ...], leaf: dict[str, Any]) -> dict[str, Any]:
    """The smallest payload reaching `path` ("0" steps are list items) holding `leaf`."""
    value: Any = leaf
    for index, step in reversed(list(enumerate(path))):
        if step == "0":
            continue
        value = [value] if index + 1 < len(path) and path[index + 1] == "0" else value
        value = {step: value}
    return value


@SETTINGS
@given(where=st.sampled_from(CLAUSES), name=st.text(min_size=1, max_size=20))
def test_an_unknown_field_anywhere_is_refused_by_its_path_and_the_schema_says_so(where, name):
    path, schema = where
    if name == "_schema" or name in {f.data_key or n for n, f in schema.load_fields.items()}:
        name = name + "_unknown"
    with pytest.raises(TermsValidationError) as refused:
        load(nest(path, {name: "x"}))
    dotted = ".".join((*path, name))
    assert dotted in refused.value.errors, refused.value.errors
    assert "allowed here" in refused.value.errors[dotted][0]


@pytest.fixture(scope="module")
def terms_openapi() -> dict[str, Any]:
    """/openapi.json of a service with one route taking contract terms."""
    blueprint = Blueprint("terms", __name__)

    class TermsBody(Schema):
        terms = TermsJson(required=True)

    @blueprint.post("/terms")
    @api_doc("terms", body=TermsBody)
    def post_terms() -> str:
        return ""

    tokens = TokenService("test-secret-that-is-long-enough-for-hs256", "contractflow")
    app = create_service_app(ServiceWeb("test", tokens, [blueprint]))
    document: dict[str, Any] = app.test_client().get("/openapi.json").get_json()
    return document


def test_every_object_of_the_published_terms_is_closed(terms_openapi):
    """No object in /openapi.json admits a field the server refuses: each declares
    `additionalProperties: false` (or the schema of its values), and a nullable clause is
    its schema or null, never any object."""
    open_objects: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node == {"type": "object", "nullable": True}:
                open_objects.append(f"{where}: nullable branch admits any object")
            if "properties" in node and "additionalProperties" not in node:
                open_objects.append(f"{where}: no additionalProperties")
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    schemas = terms_openapi["components"]["schemas"]
    assert "Fees" in schemas and "BackupPlan" in schemas, sorted(schemas)
    walk(schemas, "#/components/schemas")
    assert not open_objects, "\n".join(open_objects)
