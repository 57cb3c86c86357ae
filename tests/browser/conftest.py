"""Browser tests of the admin editor: headless Debian chromium (Playwright drives it; its
own browser download is never used) against the real service processes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .stack import REPO, Stack, free_port, wait_for

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
BUNDLE = REPO / "services" / "admin" / "static" / "dist" / "editor.js"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Kept as test artefacts: <run dir>/screenshots (`.run/test/screenshots` in make test)."""
    folder = Path(os.environ.get("CONTRACTFLOW_RUN_DIR") or REPO / ".run") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# The company's identity provider as the editor sees it: who is in which group, and the
# editor's settings mapping those groups to the platform's roles.
OIDC_USERS = (
    {"sub": "u-1001", "preferred_username": "olga", "groups": ["wf-admins", "staff"]},
    {"sub": "u-1002", "preferred_username": "piet", "groups": ["process-auditors"]},
    {"sub": "u-1003", "preferred_username": "quinn", "groups": ["sales"]},
)
OIDC_CLIENT_SECRET = "browser-test-oidc-client-secret"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real OpenID provider process (tests/browser/oidc_provider.py) on a port of its own."""
    port = free_port()
    log = (tmp_path_factory.mktemp("oidc") / "provider.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.oidc_provider", str(port)]
        + [json.dumps(user) for user in OIDC_USERS],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            "the OpenID provider's discovery document",
            lambda: _answers(f"{issuer}/.well-known/openid-configuration"),
        )
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, oidc_provider: str
) -> Iterator[Stack]:
    if not BUNDLE.is_file():
        pytest.fail(f"{BUNDLE} is missing: run `make admin-assets` (make test does)")
    oidc = {
        "ADMIN_OIDC_ISSUER": oidc_provider,
        "ADMIN_OIDC_CLIENT_ID": "contractflow-admin",
        "ADMIN_OIDC_CLIENT_SECRET": OIDC_CLIENT_SECRET,
        "ADMIN_OIDC_ROLES_CLAIM": "groups",
        "ADMIN_OIDC_ROLE_MAP": "wf-admins=workflow-admin+admin,process-auditors=admin",
        "ADMIN_OIDC_LABEL": "Company SSO",
    }
    running = Stack(tmp_path_factory.mktemp("browser-run"), kafka_bootstrap, oidc)
    running.services_sh("start")
    try:
        yield running
    finally:
        running.close()
        running.services_sh("stop")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, stack, oidc_provider):  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) with English pages; every page error fails."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, locale="en-US", base_url=stack.url("admin")
    )
    # Nothing leaves the machine: the test provider's own page links a style sheet on a
    # CDN, which is refused here (the editor's pages name no other host: see the CSP test).
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    errors: list[str] = []
    opened = context.new_page()
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    # A refused request (401/403/422) is logged by chromium as a console error; the tests
    # assert those answers themselves. Anything else the page logs as an error fails.
    refused = "Failed to load resource: the server responded with a status of 4"
    opened.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error"
            and not msg.text.startswith(refused)
            and not opened.url.startswith(oidc_provider)
            else None
        ),
    )
    yield opened
    context.close()
    assert not errors, f"the page reported errors: {errors}"


def sign_in(page, user: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.select_option("#user", user)
    page.click("form[action='/login'] button[type=submit]")
