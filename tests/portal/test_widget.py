"""The widget's options and the loader script, without a browser (tests/portal/test_embedding.py
has them in Chromium)."""

import gzip
import json

import httpx
import pytest
from starlette.applications import Starlette

import locales
from portal.embed import CACHE_SECONDS, mount_loader
from portal.widget import TITLE_LIMIT, WidgetOptions

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("query", "title", "agent"),
    [
        ({}, None, None),
        ({"title": "  社保\n咨询 ", "agent": "social_insurance"}, "社保 咨询", "social_insurance"),
        ({"title": "x" * 200}, "x" * TITLE_LIMIT, None),
        ({"title": "\x00\x1b", "agent": "../admin"}, None, None),
        ({"agent": "a" * 65}, None, None),
        ({"agent": "pension-2"}, None, "pension-2"),
    ],
)
async def test_widget_options_keep_what_is_safe_and_drop_the_rest(query, title, agent):
    options = WidgetOptions.from_query({**query, "embed": "widget"})
    assert options == WidgetOptions(embedded=True, title=title, agent=agent)


async def test_a_portal_page_has_no_widget_options():
    assert WidgetOptions.from_query({"title": "x", "agent": "pension"}) == WidgetOptions()
    assert not WidgetOptions.from_query({"embed": "yes", "title": "x"}).embedded


def loader_app(make_settings, **environ: str) -> httpx.AsyncClient:
    app = Starlette()
    mount_loader(app, make_settings(**environ), default="zh-CN")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assistant")


def written_settings(script: str) -> dict:
    start = script.index("var SETTINGS = ") + len("var SETTINGS = ")
    return json.loads(script[start : script.index(";\n", start)])


async def test_the_loader_carries_every_language_and_the_allowlist(make_settings):
    async with loader_app(
        make_settings,
        GATEWAY_SECURITY__FRAME_ANCESTORS='["\'self\'", "https://www.example.gov.cn"]',
    ) as client:
        reply = await client.get("/embed.js")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/javascript")
    written = written_settings(reply.text)
    assert written["ancestors"] == ["'self'", "https://www.example.gov.cn"]
    assert written["default"] == "zh-CN" and written["widget"] == "widget"
    assert list(written["locales"]) == locales.available()
    for code, words in written["locales"].items():
        assert words == {
            "open": locales.text("widget.open", code),
            "close": locales.text("widget.close", code),
            "title": locales.text("portal.title", code),
            "dir": locales.info(code).direction,
        }
    assert written["tags"]["zh-tw"] == "zh-HK" and written["tags"]["en"] == "en"


async def test_other_sites_may_load_the_loader_which_is_small_cached_and_compressed(
    make_settings,
):
    async with loader_app(make_settings) as client:
        plain = await client.get("/embed.js", headers={"accept-encoding": "identity"})
        packed = await client.get("/embed.js", headers={"accept-encoding": "gzip"})
        again = await client.get("/embed.js", headers={"if-none-match": plain.headers["etag"]})
    assert plain.headers["cross-origin-resource-policy"] == "cross-origin"
    assert plain.headers["cache-control"] == f"public, max-age={CACHE_SECONDS}"
    assert packed.headers["content-encoding"] == "gzip"
    size = int(packed.headers["content-length"])
    assert size == len(gzip.compress(plain.content, 9)) and size < 8_000
    assert again.status_code == 304 and not again.content
