"""The real headless Chromium of the page tests (Debian's, through Playwright), and waits on pages.

The `browser` fixture in conftest.py starts it once per test module; tests elsewhere that need
their own (tests/reports) use `chromium()` directly. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Start headless Chromium; fail, saying how to install it, when it is missing."""
    if not shutil.which("chromium") and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` "
            "(`make test` does this); the page tests need a real browser",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def wait_js(page: Any, expression: str, timeout_s: float = 30.0) -> None:
    """Wait until a JavaScript expression is true (page.evaluate: the page's CSP forbids eval).

    As patient as Playwright's own waits (30 s): a test fails on what the page shows, not on
    how busy the machine was.
    """
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.02)


def watch_errors(page: Any) -> list[str]:
    """Collect the page's script errors and console errors (a CSP refusal is one)."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


@contextlib.contextmanager
def screen_page(browser: Any, url: str) -> Iterator[Any]:
    """Open the kiosk's own screen at 800x480, its stream running; fail on any page error."""
    p = browser.new_page(viewport={"width": 800, "height": 480})
    errors = watch_errors(p)
    p.goto(url + "/")
    wait_js(p, "window.kioskEvents && window.kioskEvents.length > 0")
    yield p
    assert errors == []
    p.close()


def answer_dialog(page: Any, accept: bool) -> list[str]:
    """Answer the page's next confirm dialog (accept or dismiss); return what it asked."""
    asked: list[str] = []

    def on_dialog(d: Any) -> None:
        asked.append(d.message)
        d.accept() if accept else d.dismiss()

    page.once("dialog", on_dialog)
    return asked
