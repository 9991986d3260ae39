"""Headless Chromium for browser tests: Debian's package, driven by Playwright.

Browser downloads do not work here, so Playwright is pointed at /usr/bin/chromium (or
$CHROMIUM). .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        raise RuntimeError("Chromium is missing: `apt-get install chromium` (or set $CHROMIUM)")
    return path


@contextmanager
def chromium(*flags: str) -> Iterator[Browser]:
    """``flags``: more of Chromium's switches (a fake microphone for voice input)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=[*CHROMIUM_FLAGS, *flags], headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def policy_reports(page: Page) -> list[str]:
    """The console messages in which Chromium reports a Content-Security-Policy refusal on
    ``page``, collected from now on."""
    reports: list[str] = []

    def heard(text: str) -> None:
        if "Content Security Policy" in text or "Refused to" in text:
            reports.append(text)

    page.on("console", lambda message: heard(message.text))
    return reports
