"""A string field with a pattern takes exactly what its published pattern says (JSON
Schema's reading, the validator schemathesis and most clients use), for many strings:
a final line break, other scripts' digits, near misses of a URL."""

from __future__ import annotations

import jsonschema_rs
import pytest
from flask import Blueprint, jsonify
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields, validate

from contractflow.auth import TokenService
from contractflow.web import ServiceWeb, api_doc, create_service_app, load_json
from contractflow.web.fields import HTTP_URL, HttpUrl

CURRENCY = r"^[A-Z]{3}$"


class LinkBody(Schema):
    currency = fields.String(required=True, validate=validate.Regexp(CURRENCY))
    link = HttpUrl(required=True)


@pytest.fixture(scope="module")
def service():
    blueprint = Blueprint("links", __name__)

    @blueprint.post("/links")
    @api_doc("a link", body=LinkBody)
    def post_link():
        load_json(LinkBody())
        return jsonify(ok=True)

    tokens = TokenService("test-secret-that-is-long-enough-for-hs256", "contractflow")
    client = create_service_app(ServiceWeb("test", tokens, [blueprint])).test_client()
    published = client.get("/openapi.json").json["components"]["schemas"]["LinkBody"]
    return client, jsonschema_rs.Draft4Validator(published)


def near(pattern: str) -> st.SearchStrategy[str]:
    matching = st.from_regex(pattern, fullmatch=True, alphabet=st.characters(codec="utf-8"))
    return st.one_of(
        matching,
        matching.map(lambda s: s + "\n"),
        matching.map(lambda s: s + " "),
        matching.map(lambda s: s.upper()),
        st.text(max_size=12),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(currency=near(CURRENCY), link=near(HTTP_URL))
@example(currency="CNY\n", link="https://erp.example.com/doc/1")
@example(currency="CNY", link="https://erp.example.com/doc/1\n")
@example(currency="CNY", link="ftp://erp.example.com/")
def test_the_server_takes_a_string_exactly_when_its_published_pattern_does(service, currency, link):
    client, published = service
    body = {"currency": currency, "link": link}
    answer = client.post("/links", json=body)
    assert answer.status_code in (200, 422), answer.get_data(as_text=True)
    assert (answer.status_code == 200) == published.is_valid(body), (body, answer.json)
