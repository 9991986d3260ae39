"""Screenshots of the portal in each mode, for docs/screenshots/ (and for people to look at).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts the ``portal`` command on a free port, asks one question, and photographs the page in
headless Chromium: standard, elder, high contrast, dark, plain text, right-to-left Arabic, a
320 px phone, a 375 px phone in elder mode with 200 % text (where the page puts an answer),
the hot questions of the English page, the open toolbar and the keyboard-shortcut help; then
a host site on another port that embeds the widget with its script tag: the launcher, the
open panel after an answer, the larger panel of elder mode, and a phone, where the panel
takes the whole window.
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
from tests.servers.host_site import host_site, page, script_tag  # noqa: E402

SHOTS = [
    # name, locale, width, settings, what to open
    ("standard", "zh-CN", 1280, {}, None),
    ("elder", "zh-CN", 1280, {"mode": "elder"}, None),
    ("high-contrast", "zh-CN", 1280, {"contrast": "high"}, None),
    ("dark", "en", 1280, {"contrast": "dark"}, None),
    ("plain-text", "zh-CN", 1280, {"plain": "on", "spacing": "wide"}, None),
    ("arabic-rtl", "ar", 1280, {}, None),
    ("phone-320px", "zh-HK", 320, {}, None),
    ("phone-375px-elder-200", "zh-CN", 375, {"mode": "elder", "size": "4"}, "answer"),
    ("english-hot-questions", "en", 1280, {}, "#shortcuts"),
    ("toolbar", "zh-CN", 1280, {}, "#a11y-tools"),
    ("shortcuts-help", "en", 1280, {}, "help"),
]

EMBEDDED = [
    # name, width, height, script tag attributes, open the panel, elder mode in the widget
    ("embedded-launcher", 1280, 800, {"lang": "zh-CN", "offset_y": "96px"}, False, False),
    ("embedded-open", 1280, 900, {"lang": "zh-CN", "position": "bottom-left"}, True, False),
    ("embedded-elder", 1280, 1000, {"lang": "zh-CN", "position": "bottom-left"}, True, True),
    ("embedded-phone", 360, 740, {"lang": "en"}, True, False),
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
        with host_site() as host:
            env["GATEWAY_SECURITY__FRAME_ANCESTORS"] = f'["{host.url}"]'
            with (
                running([script("portal"), "--port", str(port)], port, env) as url,
                chromium() as browser,
            ):
                portal_shots(browser, url, args.out)
                embedded_shots(browser, url, host, args.out)


def portal_shots(browser, url: str, out: Path) -> None:
    for name, locale, width, settings, opened in SHOTS:
        query = "&".join(f"{key}={value}" for key, value in settings.items())
        tab = browser.new_context(
            viewport={"width": width, "height": 1000 if width > 400 else 900},
            locale=locale,
        ).new_page()
        tab.goto(f"{url}/?lang={locale}&{query}")
        tab.wait_for_selector("#shortcuts .chip", timeout=30_000)
        tab.locator("#shortcuts .chip").first.click()
        tab.wait_for_selector("#transcript[data-state=done]", timeout=30_000)
        tab.mouse.move(0, 0)
        # the page keeps the focused question box in view for 2 s after an answer
        tab.wait_for_timeout(2200)
        if opened != "answer":  # else the answer where the page left it, the box under it
            tab.evaluate("window.scrollTo(0, 0)")
        if opened == "help":
            tab.keyboard.press("Alt+Shift+KeyH")
        elif opened == "#shortcuts":
            tab.locator(opened).scroll_into_view_if_needed()
        elif opened and opened != "answer":
            tab.evaluate(f"document.querySelector('{opened}').open = true")
        tab.wait_for_timeout(300)
        tab.screenshot(path=str(out / f"{name}.png"))
        print(out / f"{name}.png")
        tab.context.close()


def embedded_shots(browser, url: str, host, out: Path) -> None:
    for name, width, height, attributes, opened, elder in EMBEDDED:
        address = host.add(f"/{name}", page(script_tag(url, **attributes)))
        tab = browser.new_context(viewport={"width": width, "height": height}).new_page()
        tab.goto(address)
        tab.locator("button.launcher").wait_for()
        if opened:
            tab.locator("button.launcher").click()
            frame = tab.frame_locator("iframe")
            frame.locator("#shortcuts .chip").first.click()
            frame.locator("#transcript[data-state=done] article.from-assistant").wait_for(
                timeout=30_000
            )
            if elder:
                frame.locator("[data-a11y-toggle=mode]").click()
            tab.wait_for_timeout(500)
        tab.screenshot(path=str(out / f"{name}.png"))
        print(out / f"{name}.png")
        tab.context.close()


if __name__ == "__main__":
    main()
