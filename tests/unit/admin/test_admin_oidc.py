"""How the editor reads its OpenID Connect settings and turns a provider's claims into the
platform's roles (the flow itself runs against a real provider in tests/browser)."""

from __future__ import annotations

import pytest

from contractflow.config import ConfigError
from services.admin.oidc_sign_in import OidcSettings, roles_from_claims, user_of

BASE = {"ADMIN_OIDC_ISSUER": "https://sso.example.com/realms/acme/", "ADMIN_OIDC_CLIENT_ID": "cf"}


def test_oidc_is_off_unless_configured_and_needs_issuer_and_client_together():
    assert OidcSettings.from_env({}) is None
    with pytest.raises(ConfigError, match="ADMIN_OIDC_ISSUER and ADMIN_OIDC_CLIENT_ID"):
        OidcSettings.from_env({"ADMIN_OIDC_ISSUER": "https://sso.example.com"})
    settings = OidcSettings.from_env(BASE)
    assert settings is not None and settings.issuer == "https://sso.example.com/realms/acme"


def test_a_malformed_role_map_is_refused_naming_the_item():
    with pytest.raises(ConfigError, match="'admins' is not group=role"):
        OidcSettings.from_env({**BASE, "ADMIN_OIDC_ROLE_MAP": "wf=workflow-admin,admins"})


def test_groups_are_mapped_to_roles_and_unknown_groups_give_none():
    settings = OidcSettings.from_env(
        {
            **BASE,
            "ADMIN_OIDC_ROLES_CLAIM": "realm_access.roles",
            "ADMIN_OIDC_ROLE_MAP": "wf=workflow-admin+admin,audit=admin",
        }
    )
    assert settings is not None
    claims = {"realm_access": {"roles": ["wf", "offline_access"]}}
    assert roles_from_claims(claims, settings) == ("admin", "workflow-admin")
    assert roles_from_claims({"realm_access": {"roles": ["sales"]}}, settings) == ()
    assert roles_from_claims({"realm_access": "wf"}, settings) == ()


def test_without_a_map_the_claim_values_are_the_roles():
    settings = OidcSettings.from_env(BASE)
    assert settings is not None
    assert roles_from_claims({"roles": "admin, workflow-admin"}, settings) == (
        "admin",
        "workflow-admin",
    )
    assert roles_from_claims({}, settings) == ()


def test_the_user_is_named_by_the_configured_claim_then_standard_ones():
    settings = OidcSettings.from_env({**BASE, "ADMIN_OIDC_USER_CLAIM": "upn"})
    assert settings is not None
    assert user_of({"upn": "olga@acme", "sub": "u1"}, settings) == "olga@acme"
    assert user_of({"email": "piet@acme", "sub": "u2"}, settings) == "piet@acme"
    assert user_of({"sub": "u3"}, settings) == "u3"
