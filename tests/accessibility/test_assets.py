"""The accessibility layer's assets: the theme, the head, the toolbar markup."""

import re

import httpx
import pytest
from starlette.applications import Starlette

import accessibility
import locales
from accessibility.toolbar import SHORTCUTS, help_dialog, toolbar


def test_the_theme_uses_system_fonts_rem_sizes_and_the_palette():
    css = accessibility.gradio_options()["theme"]._get_theme_css()
    assert "@font-face" not in css  # no web font to download
    sizes = re.findall(r"--(?:body|input|button-large)-text-size: ([^;]+);", css)
    assert sizes and all(size == "var(--a11y-text)" for size in sizes)
    assert "--button-primary-background-fill: var(--a11y-accent);" in css
    assert "--body-background-fill: var(--a11y-bg);" in css


def test_the_stylesheet_sizes_text_in_rem_and_defines_every_scheme():
    css = accessibility.asset("portal.css").read_text(encoding="utf-8")
    assert "--a11y-text: 1.125rem;" in css and "--a11y-target: 2.75rem;" in css
    for scheme in ('[data-contrast="high"]', '[data-contrast="dark"]', "(forced-colors: active)"):
        assert scheme in css
    assert not re.search(r"font-size:\s*\d+px", css)


def test_the_head_runs_the_boot_script_inline_before_the_stylesheet_and_script():
    head = accessibility.head("/portal/")
    assert head.startswith("<script>") and "localStorage" in head
    assert head.index("</script>") < head.index(
        '<link rel="stylesheet" href="/portal/accessibility'
    )
    assert '<script defer src="/portal/accessibility/portal.js?v=' in head


@pytest.mark.anyio
async def test_assets_are_served_compressed_and_cached_for_good():
    app = Starlette()
    accessibility.mount_assets(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://a") as client:
        reply = await client.get("/accessibility/portal.js", headers={"accept-encoding": "gzip"})
        assert reply.headers["content-encoding"] == "gzip"
        assert "immutable" in reply.headers["cache-control"]
        assert "portalAccessibility" in reply.text
        assert (await client.get("/accessibility/theme.py")).status_code == 404


@pytest.mark.parametrize("locale", ["zh-CN", "en", "ar"])
def test_toolbar_buttons_are_named_and_shortcuts_avoid_browser_and_reader_keys(locale):
    markup = toolbar(lambda key: locales.text(key, locale)) + help_dialog(
        lambda key: locales.text(key, locale)
    )
    labels = re.findall(r"<button[^>]*>([^<]*)</button>", markup)
    assert labels and all(label.strip() for label in labels)
    assert len(re.findall(r'aria-pressed="false"', markup)) >= 14
    codes = [shortcut.code for shortcut in SHORTCUTS]
    assert len(set(codes)) == len(codes)
    assert not any(code.startswith("Digit") for code in codes)  # no Alt+1–9
    assert not {"KeyA", "KeyI", "KeyT", "KeyD", "KeyF"} & set(codes)
