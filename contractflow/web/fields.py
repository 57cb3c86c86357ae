"""Request fields whose rule /openapi.json states exactly (a field that cannot say what it
accepts makes the published schema and the server disagree)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

# http(s), a host name or address, an optional port, then printable ASCII only: the same
# set for Python's re and JSON Schema's ECMA 262 patterns (no \s or \d, which differ).
HTTP_URL = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][!-~]*)?$"
MAX_URL_LENGTH = 2000  # what the columns storing one hold


class HttpUrl(fields.String):
    """An absolute http(s) URL (a link a person follows from a mail or a page)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            validate=[
                validate.Length(max=MAX_URL_LENGTH),
                validate.Regexp(HTTP_URL, error="Not an http(s) URL such as https://host/path."),
            ],
            **kwargs,
        )

    def openapi_schema(self, generated: dict[str, Any]) -> dict[str, Any]:
        return {**generated, "pattern": HTTP_URL, "maxLength": MAX_URL_LENGTH}
