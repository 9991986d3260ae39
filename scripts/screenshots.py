"""Screenshots of the portal in each mode, for docs/screenshots/ (and for people to look at).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts the ``portal`` command on a free port, asks one question, and photographs the page in
headless Chromium: standard, elder, high contrast, dark, plain text, right-to-left Arabic, a
320 px phone, the open toolbar and the keyboard-shortcut help.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import chromium  # noqa: E402
from tests.processes import free_port, running, script  # noqa: E402

SHOTS = [
    # name, locale, width, settings, what to open
    ("standard", "zh-CN", 1280, {}, None),
    ("elder", "zh-CN", 1280, {"mode": "elder"}, None),
    ("high-contrast", "zh-CN", 1280, {"contrast": "high"}, None),
    ("dark", "en", 1280, {"contrast": "dark"}, None),
    ("plain-text", "zh-CN", 1280, {"plain": "on", "spacing": "wide"}, None),
    ("arabic-rtl", "ar", 1280, {}, None),
    ("phone-320px", "zh-HK", 320, {}, None),
    ("toolbar", "zh-CN", 1280, {}, "#a11y-tools"),
    ("shortcuts-help", "en", 1280, {}, "help"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {
            "GATEWAY_STATE__DATABASE_URL": f"sqlite:///{folder}/state.db",
            "TEST_LOG_DIR": folder,
        }
        with (
            running([script("portal"), "--port", str(port)], port, env) as url,
            chromium() as browser,
        ):
            for name, locale, width, settings, opened in SHOTS:
                query = "&".join(f"{key}={value}" for key, value in settings.items())
                page = browser.new_context(
                    viewport={"width": width, "height": 1000 if width > 400 else 900},
                    locale=locale,
                ).new_page()
                page.goto(f"{url}/?lang={locale}&{query}")
                page.wait_for_selector("#shortcuts .chip", timeout=30_000)
                page.locator("#shortcuts .chip").first.click()
                page.wait_for_selector("#transcript[data-state=done]", timeout=30_000)
                page.mouse.move(0, 0)
                if opened == "help":
                    page.keyboard.press("Alt+Shift+KeyH")
                elif opened:
                    page.evaluate(f"document.querySelector('{opened}').open = true")
                else:
                    page.evaluate("document.getElementById('transcript').scrollTop = 0")
                page.evaluate("window.scrollTo(0, 0)")
                page.wait_for_timeout(300)
                page.screenshot(path=str(args.out / f"{name}.png"))
                print(args.out / f"{name}.png")
                page.context.close()


if __name__ == "__main__":
    main()
