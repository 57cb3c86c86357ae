"""A real OpenID Connect provider process for the sign-in tests:
`python -m tests.browser.oidc_provider PORT USER_CLAIMS_JSON...`.

It is oidc-provider-mock's server (Authlib's authorization server: discovery, JWKS, an
authorization form, token and userinfo endpoints, RS256 ID tokens) with one thing added:
it insists on PKCE. The mock alone accepts a code without checking a verifier, so a
client that sent none, or the wrong one, would pass; this one refuses an authorization
request without an S256 challenge and a token request whose verifier does not match.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from oidc_provider_mock import _app as mock_app
from oidc_provider_mock._storage import User
from werkzeug.serving import run_simple

# The challenge each issued code was bound to (the mock's code record has no place for it).
CHALLENGES: dict[str, tuple[str, str]] = {}


class S256Required(CodeChallenge):
    def validate_code_challenge(self, grant: Any, redirect_uri: Any) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge_method") != "S256" or not data.get("code_challenge"):
            raise InvalidRequestError("this provider requires PKCE with S256")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: Any) -> str | None:
        return CHALLENGES.get(authorization_code.code, (None, None))[0]

    def get_authorization_code_challenge_method(self, authorization_code: Any) -> str | None:
        return CHALLENGES.get(authorization_code.code, (None, None))[1]


class PkceAuthorizationCodeGrant(mock_app.AuthorizationCodeGrant):
    def __init__(self, request: Any, server: Any) -> None:
        super().__init__(request, server)
        S256Required(required=True)(self)

    def save_authorization_code(self, code: str, request: Any) -> None:
        super().save_authorization_code(code, request)
        data = request.payload.data
        CHALLENGES[code] = (data["code_challenge"], data["code_challenge_method"])


def main(argv: list[str]) -> None:
    port, *claims = argv
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain HTTP, on the loopback only
    users = []
    for raw in claims:
        found = json.loads(raw)
        users.append(User(sub=found.pop("sub"), claims=found))
    # The mock registers its grant class when the app is made: ours, with PKCE, instead.
    mock_app.AuthorizationCodeGrant = PkceAuthorizationCodeGrant
    app = mock_app.app(user_claims=users, require_nonce=True)
    run_simple("127.0.0.1", int(port), app, threaded=True)


if __name__ == "__main__":
    main(sys.argv[1:])
