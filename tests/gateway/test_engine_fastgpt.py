"""The FastGPT adapter against a server rebuilt from FastGPT 4.x's own source
(tests/servers/fastgpt.py)."""

from __future__ import annotations

import httpx
import pytest

from gateway.backends.base import BackendError
from tests.gateway.adapters import (
    QUESTION,
    Rated,
    adapter,
    answer_of,
    events,
    reset_servers,
    streamed_text,
    tokens,
)
from tests.servers import fastgpt, running

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module", params=fastgpt.APPS)
def server(request):
    with running(fastgpt.create_app, app=request.param) as server:
        server.app.state.kind = request.param
        yield server


@pytest.fixture(scope="module")
def simple():
    with running(fastgpt.create_app) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(request):
    yield
    reset_servers(request, "server", "simple")


def options(server, **more):
    return {"base_url": server.url + "/api", **more}


async def test_every_kind_of_app_streams_its_text_and_cites_after_done(server):
    before = tokens("fastgpt-all", "prompt")
    async with adapter("fastgpt", name="fastgpt-all", **options(server)) as backend:
        collected = await events(backend)
        whole = await backend.ask(QUESTION)
    answer = collected[-1].answer
    expected = server.behaviour.answer
    if server.app.state.kind == "replies":
        expected = fastgpt.FIXED_REPLY + "\n\n" + expected
    assert streamed_text(collected) == expected == answer.text == whole.text
    assert fastgpt.REASONING not in answer.text
    assert len(answer.citations) == 1  # the same quote in two nodes is one source
    citation = answer.citations[0]
    assert citation.title == "居住证问答.csv" and citation.url == "https://zwfw.example.org/jzz/faq"
    assert citation.score == 0.8935 and "派出所" in citation.snippet
    sent = server.requests[0]["json"]
    assert sent["chatId"] == "gov-s-1" == answer.conversation_id and sent["detail"] is True
    assert sent["stream"] is True and server.requests[1]["json"]["stream"] is True
    assert sent["messages"] == [{"role": "user", "content": "居住证怎么办理"}]
    assert answer.metadata == {"message_id": sent["responseChatItemId"], "chat_id": "gov-s-1"}
    assert tokens("fastgpt-all", "prompt") - before == 2 * 812


async def test_unstreamed_the_text_of_such_apps_is_an_array_so_none_is_asked_unstreamed():
    with running(fastgpt.create_app, app="reasoning") as server:
        reply = httpx.post(
            server.url + "/api/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "q"}], "detail": True},
        ).json()
    assert isinstance(reply["choices"][0]["message"]["content"], list)


async def test_a_wrong_key_is_a_refusal_though_it_comes_as_a_frame_with_http_200(
    simple, monkeypatch
):
    simple.behaviour.api_key = "fastgpt-right"
    monkeypatch.setenv("FASTGPT_KEY", "fastgpt-wrong")
    async with adapter("fastgpt", **options(simple, api_key_env="FASTGPT_KEY")) as backend:
        with pytest.raises(BackendError, match="514") as failure:
            await events(backend)
    assert not failure.value.retryable


async def test_used_up_points_and_a_failing_model_are_the_engine_s_failures(simple):
    simple.behaviour.extra["fail"] = "quota"
    async with adapter("fastgpt", **options(simple)) as backend:
        with pytest.raises(BackendError, match="510") as quota:
            await events(backend)
        simple.behaviour.extra["fail"] = "model"
        with pytest.raises(BackendError, match=fastgpt.MODEL_FAILURE) as model:
            await events(backend)
    assert quota.value.retryable and model.value.retryable


async def test_the_apps_no_knowledge_reply_is_not_found(simple):
    simple.behaviour.extra["empty"] = True
    simple.behaviour.answer = "知识库中没有找到相关内容，请拨打12345热线咨询。"
    async with adapter(
        "fastgpt",
        **options(simple, empty_replies=["知识库中没有找到相关内容，请拨打12345热线咨询。"]),
    ) as backend:
        answer = await answer_of(backend)
    assert not answer.found and answer.text == "" and answer.citations == []


async def test_the_residents_rating_reaches_fastgpt_s_feedback_api(simple):
    async with adapter("fastgpt", **options(simple, app_id=fastgpt.APP_ID)) as backend:
        good = await answer_of(backend)
        bad = await answer_of(backend)
        await backend.feedback(Rated(good.metadata), helpful=True, comment="")
        await backend.feedback(Rated(bad.metadata), helpful=False, comment="没说要几天")
    items = simple.app.state.items
    assert items[("gov-s-1", good.metadata["message_id"])]["userGoodFeedback"] == "yes"
    assert items[("gov-s-1", bad.metadata["message_id"])]["userBadFeedback"] == "没说要几天"
    async with adapter("fastgpt", **options(simple, app_id="another-app")) as backend:
        with pytest.raises(BackendError, match="应用不存在"):
            await backend.feedback(Rated(good.metadata), helpful=True, comment="")
