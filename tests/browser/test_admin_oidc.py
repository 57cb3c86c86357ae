"""Sign-in through the company's OpenID provider, in headless chromium: the editor (a
real gunicorn process configured with ADMIN_OIDC_*) sends the browser to a real provider
process, which insists on PKCE; the provider's groups become the platform's roles, and
the shared JWT minted from them is what the services accept."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from .test_admin_editor import PRE_SIGNING, open_editor

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def sign_in_at_provider(page, issuer: str, user: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Sign in as a person does; returns the authorization requests the browser made."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/oauth2/authorize" in r.url else None)
    page.goto("/login")
    assert page.locator("#oidc-sign-in").inner_text() == "Sign in with Company SSO"
    page.click("#oidc-sign-in")
    page.wait_for_url(f"{issuer}/oauth2/authorize**")
    page.click(f"button[name=sub][value='{user}']")
    return seen


def test_a_workflow_admin_signs_in_at_the_provider_and_deploys(page, stack, oidc_provider):
    requests_made = sign_in_at_provider(page, oidc_provider, "u-1001")
    page.wait_for_url("**/workflows")
    # The groups claim ["wf-admins", "staff"] mapped to the platform's roles; the user is
    # named by preferred_username, and the list came from the services with that JWT.
    assert page.locator(".who").inner_text() == "olga · admin, workflow-admin"
    assert page.locator(f"#service-negotiation tr[data-file='{PRE_SIGNING}']").count() == 1
    query = parse_qs(urlparse(requests_made[0]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["nonce"] and query["state"]
    cookies = {c["name"] for c in page.context.cookies()}
    assert "contractflow_admin" in cookies and "contractflow_admin_oidc" not in cookies

    open_editor(page, stack, "negotiation", PRE_SIGNING)
    page.fill("#comment", "Deployed by a provider-signed-in admin")
    page.click("#deploy")
    page.wait_for_selector("#status.good:has-text('Deployed as version')")
    listing = stack.api("negotiation", "GET", "/workflow/definitions", "admin")
    newest = next(d for d in listing["definitions"] if d["file_name"] == PRE_SIGNING)
    assert newest["versions"][0]["deployed_by"] == "olga"

    # Signing out ends the session here and asks the provider to end its own.
    page.click("form.inline button[type=submit]")
    page.wait_for_url(f"{oidc_provider}/oauth2/end_session**")
    ending = parse_qs(urlparse(page.url).query)
    assert ending["id_token_hint"][0].count(".") == 2 and ending["client_id"] == [
        "contractflow-admin"
    ]
    assert ending["post_logout_redirect_uri"] == [stack.url("admin", "/login")]
    page.click("button[type=submit]:has-text('End session')")
    page.wait_for_url(f"{stack.url('admin', '/login')}**")
    page.goto("/workflows")
    page.wait_for_url("**/login?next=**")


def test_the_providers_groups_decide_read_only_and_refused(page, stack, oidc_provider):
    sign_in_at_provider(page, oidc_provider, "u-1002")
    page.wait_for_url("**/workflows")
    assert page.locator(".who").inner_text() == "piet · admin"
    open_editor(page, stack, "negotiation", PRE_SIGNING)
    assert page.locator("#deploy").count() == 0

    page.context.clear_cookies()
    sign_in_at_provider(page, oidc_provider, "u-1003")
    page.wait_for_url("**/workflows")
    assert "for the roles admin and workflow-admin" in page.locator("main").inner_text()


def test_a_denied_or_forged_answer_signs_nobody_in(page, stack, oidc_provider):
    page.goto("/login")
    page.click("#oidc-sign-in")
    page.wait_for_url(f"{oidc_provider}/oauth2/authorize**")
    page.click("button[value=deny]")
    page.wait_for_url("**/login?failed=oidc")
    assert "did not succeed" in page.locator("[role=alert]").inner_text()

    # A code and state made up by someone else (login CSRF): no flow of this browser.
    page.goto("/login/oidc/callback?code=stolen&state=forged")
    page.wait_for_url("**/login?failed=oidc")
    page.goto("/workflows")
    page.wait_for_url("**/login?next=**")
