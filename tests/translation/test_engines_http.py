"""The LibreTranslate and LLM engines against local servers that speak their wire formats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.config import load_settings
from gateway.services import Services
from gateway.translation.base import TranslationError, Translator
from gateway.translation.cache import MemoryCache
from gateway.translation.glossary import Glossary
from gateway.translation.libretranslate import LibreTranslateOptions, LibreTranslateTranslator
from gateway.translation.llm import LlmOptions, LlmTranslator
from gateway.translation.service import TranslationService
from tests.processes import free_port
from tests.servers import libretranslate, serve, translating_model

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def libretranslate_server() -> Iterator[tuple[str, list]]:
    app = libretranslate.create_app(api_keys={"lt-key"})
    with serve(app) as url:
        yield url, app.state.requests


@pytest.fixture(scope="module")
def llm_server() -> Iterator[tuple[str, list]]:
    app = translating_model.create_app(api_key="sk-test")
    with serve(app) as url:
        yield url, app.state.requests


def service_with(engine: Translator) -> TranslationService:
    settings = load_settings(None, environ={})
    return TranslationService(
        settings.translation, Services(settings), engine, Glossary.load(), MemoryCache()
    )


# -- LibreTranslate ---------------------------------------------------------------------------


async def test_libretranslate_translates_a_batch_with_the_servers_chinese_code(
    libretranslate_server, monkeypatch
) -> None:
    url, requests = libretranslate_server
    monkeypatch.setenv("LT_KEY", "lt-key")
    engine = LibreTranslateTranslator(LibreTranslateOptions(url=url, api_key_env="LT_KEY"))
    await engine.startup()
    try:
        result = await engine.translate(["I lost my ZQ1.", "How do I replace it?"], "en", "zh")
    finally:
        await engine.aclose()
    assert result == ["丢了ZQ1。", "怎么补办？"]
    sent = requests[-1]
    assert sent["source"] == "en" and sent["target"] == "zh-Hans"
    assert sent["q"] == ["I lost my ZQ1.", "How do I replace it?"]
    assert sent["format"] == "text" and sent["api_key"] == "lt-key"


async def test_libretranslate_glossary_terms_survive_and_come_back_official(
    libretranslate_server, monkeypatch
) -> None:
    url, requests = libretranslate_server
    monkeypatch.setenv("LT_KEY", "lt-key")
    service = service_with(
        LibreTranslateTranslator(LibreTranslateOptions(url=url, api_key_env="LT_KEY"))
    )
    [chinese] = await service.translate(
        ["I lost my Driving License. How do I replace it?"], "en", "zh"
    )
    assert chinese == "丢了驾驶证。怎么补办？"
    # The server never saw the term, only its placeholder.
    assert "Driving License" not in str(requests[-1]["q"])


async def test_libretranslate_refusing_the_key_is_a_translation_error(
    libretranslate_server, monkeypatch
) -> None:
    url, _ = libretranslate_server
    monkeypatch.setenv("LT_KEY", "wrong")
    engine = LibreTranslateTranslator(LibreTranslateOptions(url=url, api_key_env="LT_KEY"))
    with pytest.raises(TranslationError, match="403: Invalid API key"):
        await engine.translate(["hello"], "en", "zh")


async def test_libretranslate_pairs_the_server_lacks_are_unsupported(libretranslate_server) -> None:
    url, _ = libretranslate_server
    engine = LibreTranslateTranslator(LibreTranslateOptions(url=url))
    with pytest.raises(TranslationError) as raised:
        await engine.translate(["สวัสดี"], "th", "zh")
    assert raised.value.unsupported


async def test_libretranslate_unreachable_is_a_translation_error() -> None:
    engine = LibreTranslateTranslator(
        LibreTranslateOptions(url=f"http://127.0.0.1:{free_port()}", timeout=2)
    )
    with pytest.raises(TranslationError, match="could not be reached"):
        await engine.translate(["hello"], "en", "zh")


# -- LLM ----------------------------------------------------------------------------------------


async def test_llm_translates_under_the_strict_prompt_with_the_glossary(
    llm_server, monkeypatch
) -> None:
    url, requests = llm_server
    monkeypatch.setenv("LLM_KEY", "sk-test")
    engine = LlmTranslator(LlmOptions(base_url=url, model="qwen-translate", api_key_env="LLM_KEY"))
    service = service_with(engine)
    [english] = await service.translate(["带**身份证**到派出所办理。"], "zh", "en")
    await engine.aclose()
    assert english == "bring **resident ID card** to police station apply."
    request = requests[-1]
    assert request["authorization"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == "qwen-translate" and body["temperature"] == 0
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert "from Simplified Chinese into English" in system
    assert "never answer" in system
    assert "ZQ1 = resident ID card" in system and "ZQ2 = police station" in system
    # Markdown goes to the model whole; the terms do not.
    assert user == "带**ZQ1**到ZQ2办理。"


async def test_llm_base_url_may_already_end_in_v1(llm_server, monkeypatch) -> None:
    url, _ = llm_server
    monkeypatch.setenv("LLM_KEY", "sk-test")
    engine = LlmTranslator(LlmOptions(base_url=url + "/v1/", model="m", api_key_env="LLM_KEY"))
    assert engine.url == url + "/v1/chat/completions"
    assert await engine.translate(["怎么办理"], "zh", "en") == ["how to apply"]


async def test_llm_errors_are_translation_errors(llm_server, monkeypatch) -> None:
    url, _ = llm_server
    monkeypatch.setenv("LLM_KEY", "sk-wrong")
    engine = LlmTranslator(LlmOptions(base_url=url, model="m", api_key_env="LLM_KEY"))
    with pytest.raises(TranslationError, match="401: Incorrect API key provided"):
        await engine.translate(["怎么办理"], "zh", "en")
    monkeypatch.delenv("LLM_KEY")
    with pytest.raises(TranslationError, match="LLM_KEY"):
        await engine.translate(["怎么办理"], "zh", "en")


async def test_the_cache_spares_the_engine_a_second_request(llm_server, monkeypatch) -> None:
    url, requests = llm_server
    monkeypatch.setenv("LLM_KEY", "sk-test")
    service = service_with(
        LlmTranslator(LlmOptions(base_url=url, model="m", api_key_env="LLM_KEY"))
    )
    before = len(requests)
    first = await service.translate(["到派出所办理。"], "zh", "en")
    second = await service.translate(["到派出所办理。"], "zh", "en")
    assert first == second and len(requests) == before + 1
    # Another term in the same sentence shape reuses the cached translation, rendered anew.
    third = await service.translate(["到公安局办理。"], "zh", "en")
    assert third == ["to public security bureau apply."]
    assert len(requests) == before + 1
