"""Browser tests of the admin editor: headless Debian chromium (Playwright drives it; its
own browser download is never used) against the real service processes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .stack import REPO, Stack

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
BUNDLE = REPO / "services" / "admin" / "static" / "dist" / "editor.js"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Kept as test artefacts: <run dir>/screenshots (`.run/test/screenshots` in make test)."""
    folder = Path(os.environ.get("CONTRACTFLOW_RUN_DIR") or REPO / ".run") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not BUNDLE.is_file():
        pytest.fail(f"{BUNDLE} is missing: run `make admin-assets` (make test does)")
    running = Stack(tmp_path_factory.mktemp("browser-run"), kafka_bootstrap)
    running.services_sh("start")
    try:
        yield running
    finally:
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
def page(browser, stack):  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) with English pages; every page error fails."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, locale="en-US", base_url=stack.url("admin")
    )
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
            if msg.type == "error" and not msg.text.startswith(refused)
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
