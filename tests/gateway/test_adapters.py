"""The OpenAI-compatible, legacy HTTP and RAG adapters against local servers speaking their
wire formats (the engines' adapters: tests/gateway/test_engine_*.py)."""

from __future__ import annotations

import pytest

from gateway import backends
from gateway.backends.base import BackendError, Delta, Done, Query
from gateway.config import BackendConfig, Settings
from gateway.services import Services
from tests.gateway.adapters import QUESTION, adapter, events, streamed_text, tokens
from tests.servers import faq_service, running
from tests.servers import openai as openai_server

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def llm():
    with running(openai_server.create_app) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(request):
    yield
    if "llm" in request.fixturenames:
        request.getfixturevalue("llm").behaviour.reset()


# -- openai -------------------------------------------------------------------------------------


async def test_openai_streams_deltas_and_hides_reasoning_and_usage_chunks(llm, monkeypatch):
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test-123")
    llm.behaviour.api_key = "sk-test-123"
    llm.behaviour.extra.update(reasoning="先想一想：用户要办居住证", usage_choices=None)
    async with adapter(
        "openai", base_url=llm.url + "/v1", model="qwen", api_key_env="TEST_LLM_KEY"
    ) as backend:
        collected = await events(backend)
    assert len([e for e in collected if isinstance(e, Delta)]) > 2
    assert streamed_text(collected) == llm.behaviour.answer
    assert isinstance(collected[-1], Done) and collected[-1].answer.text == llm.behaviour.answer
    assert "先想一想" not in streamed_text(collected)
    sent = llm.requests[-1]["json"]
    assert sent["model"] == "qwen" and sent["stream"] is True
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert sent["messages"][-1]["content"] == "居住证怎么办理"


async def test_openai_usage_chunk_with_empty_choices_and_a_whole_reply(llm):
    llm.behaviour.extra["reasoning"] = "推理过程"
    before = tokens("openai-usage", "prompt")
    async with adapter(
        "openai", name="openai-usage", base_url=llm.url + "/v1", model="m", include_usage=True
    ) as backend:
        collected = await events(backend)
        answer = await backend.ask(QUESTION)
    assert tokens("openai-usage", "prompt") - before == 9 + 9  # the stream's and the reply's
    assert streamed_text(collected) == llm.behaviour.answer
    assert llm.requests[0]["json"]["stream_options"] == {"include_usage": True}
    assert answer.text == llm.behaviour.answer and answer.found


async def test_openai_drops_a_leading_think_block(llm):
    llm.behaviour.answer = "<think>这里是推理，不给居民看</think>请携带身份证。"
    llm.behaviour.chunk_chars = 3
    async with adapter("openai", base_url=llm.url + "/v1", model="m") as backend:
        collected = await events(backend)
        answer = await backend.ask(QUESTION)
    assert streamed_text(collected) == "请携带身份证。" == answer.text


async def test_openai_a_wrong_key_is_not_worth_retrying(llm):
    llm.behaviour.api_key = "right"
    async with adapter("openai", base_url=llm.url + "/v1", model="m") as backend:
        with pytest.raises(BackendError) as failure:
            await events(backend)
    assert failure.value.status == 401 and not failure.value.retryable


async def test_openai_a_stream_without_done_failed(llm):
    llm.behaviour.extra["no_done"] = True
    async with adapter("openai", base_url=llm.url + "/v1", model="m") as backend:
        with pytest.raises(BackendError, match="before \\[DONE\\]"):
            await events(backend)


# -- http ---------------------------------------------------------------------------------------


async def test_http_backend_follows_its_configuration():
    with running(faq_service.create_app) as server:
        options = {
            "base_url": server.url,
            "path": "/api/ask",
            "body": {"q": "{question}", "channel": "gateway", "tags": ["{locale}"]},
            "answer": "data.reply",
            "found": "data.hit",
            "citations": "data.docs",
            "citation_fields": {"title": "name", "url": "link", "score": "rank"},
        }
        async with adapter("http", **options) as backend:
            answer = await backend.ask(QUESTION)
            missing = await backend.ask(Query(text="推荐一部电影"))
        async with adapter(
            "http", **{**options, "method": "GET", "params": {"q": "{question}"}}
        ) as backend:
            by_get = await backend.ask(QUESTION)
    assert answer.found and answer.text == server.behaviour.answer == by_get.text
    assert [(c.title, c.url, c.score) for c in answer.citations] == [
        ("居住证办理指南", "https://zwfw.example.org/jzz", 0.9),
        ("内部文件", "", 0.2),  # only http(s) links are kept
    ]
    assert server.requests[0]["json"] == {
        "q": "居住证怎么办理",
        "channel": "gateway",
        "tags": ["zh-CN"],
    }
    assert not missing.found and missing.text == ""


def test_http_backend_refuses_a_bad_path_at_start_up():
    from gateway.config import ConfigError

    with pytest.raises(ConfigError, match="JMESPath"):
        backends.create(
            BackendConfig(name="h", type="http", base_url="http://x", answer="data.[["),
            Services(Settings()),
        )


# -- rag ----------------------------------------------------------------------------------------


async def test_rag_streams_only_once_a_retrieved_passage_is_cited(llm):
    llm.behaviour.answer = "办理居住证，要向居住地派出所申领 [1]。"
    llm.behaviour.chunk_chars = 3
    async with adapter("rag", llm={"base_url": llm.url + "/v1", "model": "m"}) as backend:
        collected = await events(backend)
    deltas = [e.text for e in collected if isinstance(e, Delta)]
    assert "[1]" in deltas[0]  # held back until the citation, then sent together
    answer = collected[-1].answer
    assert answer.text == llm.behaviour.answer and answer.metadata["grounded"] is True
    assert answer.citations[0].title.startswith("[1] ") and answer.citations[0].url.startswith(
        "https://"
    )
    assert answer.category == "residence_permit"
    prompt = llm.requests[-1]["json"]["messages"][0]["content"]
    assert "[1] 居住证怎么办理？" in prompt


@pytest.mark.parametrize("ungrounded", ["居住证随便办，不用材料。", "见资料 [9]。"])
async def test_rag_never_shows_an_answer_citing_nothing_retrieved(llm, ungrounded):
    llm.behaviour.answer = ungrounded
    async with adapter("rag", llm={"base_url": llm.url + "/v1", "model": "m"}) as backend:
        collected = await events(backend)
    assert all(ungrounded not in event.text for event in collected if isinstance(event, Delta))
    answer = collected[-1].answer
    assert answer.found and answer.metadata["grounded"] is False
    assert answer.entry_id == "residence-permit-apply"  # the best FAQ answer instead


async def test_rag_asks_no_model_when_nothing_is_retrieved(llm):
    async with adapter("rag", llm={"base_url": llm.url + "/v1", "model": "m"}) as backend:
        collected = await events(backend, Query(text="推荐一部好看的电影"))
    assert not collected[-1].answer.found and llm.requests == []


@pytest.mark.parametrize(("categories", "first"), [
    (["foreigners"], "[1] 外国朋友住在我家里，要去派出所登记吗？"),  # the default
    ([], "[1] 刚来这个城市，要先办居住登记吗？"),  # the residents' own entry
])  # fmt: skip
async def test_rag_gives_the_model_a_foreign_residents_entries_first(llm, categories, first):
    llm.behaviour.answer = "请到派出所登记 [1]。"
    question = Query(
        text="I'm renting a flat, do I need to report my address to the police?", language="en"
    )
    async with adapter(
        "rag", llm={"base_url": llm.url + "/v1", "model": "m"},
        foreign_resident_categories=categories,
    ) as backend:  # fmt: skip
        await events(backend, question)
    assert first in llm.requests[-1]["json"]["messages"][0]["content"]
