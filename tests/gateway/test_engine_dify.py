"""The Dify adapter against a server rebuilt from Dify 1.x's own source (tests/servers/dify.py)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from gateway.backends.base import BackendError, Query, Replace
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
from tests.servers import dify, running

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module", params=dify.MODES)
def server(request):
    with running(dify.create_app, mode=request.param) as server:
        yield server


@pytest.fixture(scope="module")
def chat_server():
    with running(dify.create_app) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(request):
    yield
    reset_servers(request, "server", "chat_server")


def options(server, **more):
    return {"base_url": server.url + "/v1", **more}


async def test_every_app_mode_streams_cites_suggests_and_continues_its_conversation(server):
    before = tokens("dify-all", "prompt")
    async with adapter("dify", name="dify-all", **options(server)) as backend:
        collected = await events(backend)
        answer = collected[-1].answer
        follow_up = Query(text="要多久", session_id="s-1", conversation_id=answer.conversation_id)
        again = await backend.ask(follow_up)  # a whole answer is a collected stream
    assert streamed_text(collected) == server.behaviour.answer == answer.text == again.text
    assert [c.title for c in answer.citations] == ["居住证暂行条例", "居住证申领材料清单"]
    assert answer.citations[0].score == 0.93 and answer.citations[0].snippet.startswith("公民")
    assert answer.citations[0].url == ""  # Dify gives no link and none is configured
    assert answer.suggestions == dify.SUGGESTED
    assert answer.metadata == {
        "message_id": answer.metadata["message_id"],
        "user": "gov-assistant-s-1",
    }
    sent = [r["json"] for r in server.requests if r["path"] == "/v1/chat-messages"]
    assert [body["response_mode"] for body in sent] == ["streaming", "streaming"]
    assert sent[0]["conversation_id"] == "" and sent[1]["conversation_id"] == answer.conversation_id
    assert server.app.state.conversations[answer.conversation_id] == ["居住证怎么办理", "要多久"]
    assert tokens("dify-all", "prompt") - before == 2 * dify.USAGE["prompt_tokens"]


async def test_an_agent_app_refuses_blocking_mode_so_none_is_sent():
    with running(dify.create_app, mode="agent-chat") as server:
        async with adapter("dify", **options(server)) as backend:
            answer = await backend.ask(QUESTION)
        assert answer.found and answer.text == server.behaviour.answer
        # what the server does with a blocking request, as Dify does
        refused = httpx.post(
            server.url + "/v1/chat-messages",
            json={"query": "q", "inputs": {}, "user": "u", "response_mode": "blocking"},
        )
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_param"


async def test_a_failing_model_is_the_engine_s_failure_and_worth_another_back_end(chat_server):
    chat_server.behaviour.extra["fail"] = "model"
    async with adapter("dify", **options(chat_server)) as backend:
        with pytest.raises(BackendError, match="completion_request_error") as in_stream:
            await events(backend)
        chat_server.behaviour.extra["fail"] = "provider"
        with pytest.raises(BackendError, match="provider_not_initialize") as before_stream:
            await events(backend)
    assert in_stream.value.retryable and in_stream.value.status == 400
    assert before_stream.value.retryable and before_stream.value.status == 400


async def test_a_wrong_key_is_a_refusal(chat_server, monkeypatch):
    chat_server.behaviour.api_key = "app-right"
    monkeypatch.setenv("DIFY_KEY", "app-wrong")
    async with adapter("dify", **options(chat_server, api_key_env="DIFY_KEY")) as backend:
        with pytest.raises(BackendError, match="unauthorized") as failure:
            await events(backend)
    assert not failure.value.retryable and failure.value.status == 401
    monkeypatch.setenv("DIFY_KEY", "app-right")
    async with adapter("dify", **options(chat_server, api_key_env="DIFY_KEY")) as backend:
        assert (await answer_of(backend)).found
    assert chat_server.requests[-1]["headers"]["authorization"] == "Bearer app-right"


async def test_message_replace_withdraws_the_streamed_text(chat_server):
    chat_server.behaviour.extra["replace"] = "抱歉，该内容无法显示。"
    async with adapter("dify", **options(chat_server)) as backend:
        collected = await events(backend)
    assert Replace("抱歉，该内容无法显示。") in collected
    assert collected[-1].answer.text == "抱歉，该内容无法显示。"


async def test_a_forgotten_conversation_starts_a_new_one(chat_server):
    stale = Query(text="居住证怎么办理", session_id="s-2", conversation_id=str(uuid.uuid4()))
    async with adapter("dify", **options(chat_server)) as backend:
        answer = await answer_of(backend, stale)
    assert answer.found and answer.conversation_id not in ("", stale.conversation_id)
    sent = [
        r["json"]["conversation_id"] for r in chat_server.requests if "chat-messages" in r["path"]
    ]
    assert sent == [stale.conversation_id, ""]


async def test_suggestions_switched_off_in_the_app_leave_the_answer_whole(chat_server):
    chat_server.behaviour.extra["suggestions_disabled"] = True
    async with adapter("dify", **options(chat_server)) as backend:
        answer = await answer_of(backend)
    assert answer.found and answer.text and answer.suggestions == []


async def test_the_residents_rating_reaches_dify_s_feedback_api(chat_server):
    async with adapter("dify", **options(chat_server)) as backend:
        answer = await answer_of(backend)
        await backend.feedback(Rated(answer.metadata), helpful=False, comment="材料写得不清楚")
        await backend.feedback(Rated(answer.metadata), helpful=True, comment="")
        with pytest.raises(BackendError, match="not_found"):
            await backend.feedback(
                Rated({"message_id": str(uuid.uuid4()), "user": "gov-assistant-s-1"}), True, ""
            )
    assert [(f["rating"], f["content"], f["user"]) for f in chat_server.app.state.feedbacks] == [
        ("dislike", "材料写得不清楚", "gov-assistant-s-1"),
        ("like", "", "gov-assistant-s-1"),
    ]
    assert {f["message_id"] for f in chat_server.app.state.feedbacks} == {
        answer.metadata["message_id"]
    }


async def test_the_apps_no_knowledge_reply_is_not_found(chat_server):
    chat_server.behaviour.answer = "抱歉，知识库中没有关于“居住证怎么办理”的内容。"
    chat_server.behaviour.extra["resources"] = []
    reply = "抱歉，知识库中没有关于“{question}”的内容。"
    async with adapter("dify", **options(chat_server, empty_replies=[reply])) as backend:
        answer = await answer_of(backend)
    assert not answer.found and answer.text == "" and answer.suggestions == []


async def test_sources_link_through_the_operator_s_template(chat_server):
    templates = {"居住证政策": "https://zwfw.example.org/jzz/{document_name}"}
    async with adapter("dify", **options(chat_server, source_urls=templates)) as backend:
        answer = await answer_of(backend)
    assert (
        answer.citations[0].url
        == "https://zwfw.example.org/jzz/%E5%B1%85%E4%BD%8F%E8%AF%81%E6%9A%82%E8%A1%8C%E6%9D%A1%E4%BE%8B"
    )
