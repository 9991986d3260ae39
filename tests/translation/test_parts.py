"""The small parts: Markdown layout, the cache, language codes, configuration."""

from __future__ import annotations

import pytest

from gateway import extensions
from gateway.config import ConfigError
from gateway.translation.base import language_of
from gateway.translation.cache import MemoryCache, cache_key
from gateway.translation.markdown import layout
from gateway.translation.service import create_engine

pytestmark = pytest.mark.anyio


def test_markdown_layout_keeps_structure_and_drops_emphasis() -> None:
    text = "**条件**：\n- 有**稳定**住所；\n\n1. 先登记。\n```\ncode 不译\n```\n"
    shape = layout(text)
    assert shape.texts == ["条件：", "有稳定住所；", "先登记。"]
    assert shape.join(["Requirements:", "A stable home;", "Register first."]) == (
        "Requirements:\n- A stable home;\n\n1. Register first.\n```\ncode 不译\n```\n"
    )


async def test_the_cache_forgets_the_least_recently_used() -> None:
    cache = MemoryCache(size=2)
    await cache.set("a", "1")
    await cache.set("b", "2")
    assert await cache.get("a") == "1"
    await cache.set("c", "3")
    assert await cache.get("b") is None and await cache.get("a") == "1" and len(cache) == 2


def test_cache_keys_name_engine_pair_and_text() -> None:
    key = cache_key("argos", "zh", "en", "你好")
    assert key.startswith("translation:argos:zh:en:")
    assert key != cache_key("llm", "zh", "en", "你好") != cache_key("argos", "zh", "ko", "你好")


def test_every_chinese_tag_is_chinese() -> None:
    assert [language_of(t) for t in ("zh-Hant", "yue", "pinyin", "zh-HK", "en-GB", "ko", None)] == [
        "zh",
        "zh",
        "zh",
        "zh",
        "en",
        "ko",
        None,
    ]


def test_engines_are_an_extension_point() -> None:
    assert {"none", "argos", "libretranslate", "llm"} <= set(
        extensions.names("gateway.translators")
    )


def test_engine_options_are_checked(make_settings) -> None:
    settings = make_settings('[translation]\nengine = "llm"\n')
    with pytest.raises(ConfigError, match="translation engine 'llm': base_url: Field required"):
        create_engine(settings.translation)
    with pytest.raises(ConfigError, match=r"no gateway\.translators named 'babel'"):
        create_engine(make_settings('[translation]\nengine = "babel"\n').translation)


def test_translation_settings_come_from_the_environment(make_settings) -> None:
    settings = make_settings(
        GATEWAY_TRANSLATION__ENGINE="libretranslate",
        GATEWAY_TRANSLATION__OPTIONS='{libretranslate = {url = "http://127.0.0.1:5000"}}',
    )
    assert create_engine(settings.translation).options.url == "http://127.0.0.1:5000"
