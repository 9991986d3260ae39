"""Choosing routes (agent, language, keywords, FAQ category), conversations across turns, and
the OpenAI-compatible facade."""

from __future__ import annotations

import json

import pytest

from gateway.backends.base import Turn
from gateway.config import ConfigError, SessionsConfig
from gateway.state.sessions import MemorySessionStore
from tests.servers import dify, running
from tests.servers import openai as openai_server

pytestmark = pytest.mark.anyio

ROUTES = """
[[backends]]
name = "faq"
type = "faq"

[[backends]]
name = "policy"
type = "static"
answer = "政策助手：{question}"

[[backends]]
name = "english"
type = "static"
answer = "English desk: {question}"

[[backends]]
name = "fund"
type = "static"
answer = "公积金专线：{question}"

[[backends]]
name = "tourism"
type = "static"
answer = "旅游助手：{question}"

[[routes]]
name = "policy-agent"
agents = ["policy"]
backends = ["policy"]

[[routes]]
name = "english"
languages = ["en"]
backends = ["english"]

[[routes]]
name = "tourism"
keywords = ["景点", "旅游"]
backends = ["tourism"]

[[routes]]
name = "housing-fund"
categories = ["housing_fund"]
backends = ["fund", "faq"]

[[routes]]
backends = ["faq"]
"""


def only_backend(name: str, type_: str, base_url: str, *lines: str) -> str:
    table = "\n".join([f'name = "{name}"', f'type = "{type_}"', f'base_url = "{base_url}"', *lines])
    return f'[[backends]]\n{table}\n[[routes]]\nbackends = ["{name}"]\n'


async def chat(client, message: str, **fields) -> dict:
    response = await client.post("/api/v1/chat", json={"message": message, **fields})
    assert response.status_code == 200, response.text
    if fields.get("stream"):
        return {"events": response.text}
    return response.json()


async def test_routes_match_agent_language_keywords_and_faq_category(serve_app):
    async with serve_app(ROUTES) as client:
        assert (await chat(client, "居住证怎么办理", agent="policy"))["backend"] == "policy"
        assert (await chat(client, "居住证怎么办理", lang="en"))["backend"] == "english"
        assert (await chat(client, "周末有什么旅游景点"))["backend"] == "tourism"
        # no keyword names it: the best FAQ hit is in the housing_fund category
        assert (await chat(client, "租房可以提取公积金吗"))["backend"] == "fund"
        assert (await chat(client, "居住证怎么办理"))["backend"] == "faq"
        routes = {
            b["name"]: b["routes"]
            for b in (await client.get("/api/v1/backends")).json()["backends"]
        }
    assert routes["faq"] == ["housing-fund", "*"] and routes["policy"] == ["policy-agent"]


def test_a_configuration_needs_a_route_for_every_question(make_settings):
    from gateway.chat import ChatService

    toml = '[[routes]]\nagents = ["policy"]\nbackends = ["faq"]\n'
    with pytest.raises(ConfigError, match="no route matches every question"):
        ChatService.from_settings(make_settings(toml))


async def test_a_topic_less_follow_up_takes_the_topic_of_the_earlier_question(serve_app):
    async with serve_app() as client:
        first = await chat(client, "居住证怎么办理", session_id="walk-1")
        follow_up = await chat(client, "需要什么材料？", session_id="walk-1")
        third = await chat(client, "能代办吗", session_id="walk-1")
        alone = await chat(client, "需要什么材料？", session_id="someone-else")
    guide = "https://zwfw.example.org/guide/residence-permit/"
    assert first["backend"] == follow_up["backend"] == "faq"
    assert follow_up["found"] and "材料" in follow_up["answer"]
    assert follow_up["citations"][0]["url"] == first["citations"][0]["url"]
    assert third["found"] and third["citations"][0]["url"].startswith(guide)
    assert "代办" in third["citations"][0]["title"]
    # without the conversation the same words find another topic altogether
    assert not alone["citations"] or not alone["citations"][0]["url"].startswith(guide)


async def test_a_new_topic_is_not_mixed_with_the_old_one(serve_app):
    async with serve_app() as client:
        await chat(client, "居住证怎么办理", session_id="walk-2")
        fund = await chat(client, "公积金怎么提取", session_id="walk-2")
        thanks = await chat(client, "谢谢", session_id="walk-2")
    assert "/housing-fund/" in fund["citations"][0]["url"]
    assert not thanks["found"]


async def test_openai_backends_get_the_conversation_as_masked_messages(serve_app):
    with running(openai_server.create_app) as llm:
        toml = only_backend("llm", "openai", f"{llm.url}/v1", 'model = "m"')
        async with serve_app(toml) as client:
            await chat(client, "我的手机13812345678，居住证怎么办理", session_id="c-1")
            await chat(client, "要多久", session_id="c-1", stream=True)
    messages = llm.requests[-1]["json"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "13812345678" not in json.dumps(messages, ensure_ascii=False)
    assert "[手机号码]" in messages[1]["content"] and messages[2]["content"] == llm.behaviour.answer
    assert messages[3]["content"] == "要多久"


async def test_dify_gets_back_the_conversation_id_it_gave_the_session(serve_app):
    with running(dify.create_app) as server:
        toml = only_backend("dify", "dify", f"{server.url}/v1")
        async with serve_app(toml) as client:
            await chat(client, "居住证怎么办理", session_id="d-1", stream=True)
            await chat(client, "要多久", session_id="d-1")
            await chat(client, "要多久", session_id="d-2")
    sent = [r["json"] for r in server.requests if r["path"] == "/v1/chat-messages"]
    assert sent[0]["conversation_id"] == "" and sent[1]["conversation_id"] != ""
    assert server.app.state.conversations[sent[1]["conversation_id"]] == [
        "居住证怎么办理",
        "要多久",
    ]
    assert sent[2]["conversation_id"] == "" and sent[2]["user"] == "gov-assistant-d-2"


async def test_the_session_store_keeps_the_last_turns_and_forgets_idle_ones():
    now = [0.0]
    store = MemorySessionStore(SessionsConfig(max_turns=2, ttl=10, max_sessions=2), lambda: now[0])
    for number in range(3):
        await store.append(
            "a", [Turn("user", f"q{number}"), Turn("assistant", f"a{number}")], "dify", f"c{number}"
        )
    kept = await store.load("a")
    assert [t.content for t in kept.turns] == ["q1", "a1", "q2", "a2"] and kept.backend_ids == {
        "dify": "c2"
    }
    await store.append("b", [Turn("user", "x")])
    await store.append("c", [Turn("user", "y")])
    assert (await store.load("a")).turns == [] and len(store) == 2  # least recently used out
    now[0] = 11
    assert (await store.load("b")).turns == []


# -- the OpenAI-compatible facade ---------------------------------------------------------------


async def test_facade_answers_like_an_openai_model(client):
    response = await client.post(
        "/v1/chat/completions",
        json={
            "model": "anything",
            "messages": [{"role": "user", "content": "居住证怎么办理"}],
            "temperature": 0.2,
        },
        headers={"Authorization": "Bearer whatever"},
    )
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["object"] == "chat.completion"
    assert "居住" in reply["choices"][0]["message"]["content"]
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert reply["backend"] == "faq" and reply["citations"][0]["url"].startswith("https://")


async def test_facade_streams_chunks_then_done(client):
    response = await client.post(
        "/v1/chat/completions",
        json={
            "messages": [{"role": "user", "content": [{"type": "text", "text": "居住证怎么办理"}]}],
            "stream": True,
        },
    )
    lines = [line[6:] for line in response.text.split("\n\n") if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "居住" in text and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["citations"] and chunks[-1]["backend"] == "faq"


async def test_facade_hands_the_clients_conversation_to_the_backends(serve_app):
    with running(openai_server.create_app) as llm:
        toml = only_backend("llm", "openai", f"{llm.url}/v1", 'model = "m"')
        async with serve_app(toml) as client:
            messages = [
                {"role": "system", "content": "ignored"},
                {"role": "user", "content": "身份证11010519491231002X能办居住证吗"},
                {"role": "assistant", "content": "可以。"},
                {"role": "user", "content": "要多久"},
            ]
            response = await client.post("/v1/chat/completions", json={"messages": messages})
    assert response.json()["choices"][0]["message"]["content"] == llm.behaviour.answer
    sent = llm.requests[-1]["json"]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert "11010519491231002X" not in json.dumps(sent, ensure_ascii=False)


async def test_facade_model_names_an_agent_and_models_lists_them(serve_app):
    async with serve_app(ROUTES) as client:
        response = await client.post(
            "/v1/chat/completions",
            json={"model": "policy", "messages": [{"role": "user", "content": "居住证怎么办理"}]},
        )
        models = (await client.get("/v1/models")).json()
    assert response.json()["backend"] == "policy"
    assert [m["id"] for m in models["data"]] == ["gov-assistant", "policy"]


async def test_facade_checks_the_key_only_when_configured(serve_app, monkeypatch):
    monkeypatch.setenv("FACADE_KEY", "s3cret")
    async with serve_app('[facade]\napi_key_env = "FACADE_KEY"\n') as client:
        body = {"messages": [{"role": "user", "content": "居住证怎么办理"}]}
        refused = await client.post(
            "/v1/chat/completions",
            json=body,
            headers={"Authorization": "Bearer nope", "Accept-Language": "en"},
        )
        accepted = await client.post(
            "/v1/chat/completions", json=body, headers={"Authorization": "Bearer s3cret"}
        )
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert "key" in refused.json()["error"]["message"]
    assert accepted.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"messages": []},
        {"messages": [{"role": "assistant", "content": "hi"}]},
        {"messages": [{"role": "user", "content": ""}]},
    ],
)
async def test_facade_refuses_unusable_requests_clearly(client, body):
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 422 and response.json()["error"]["message"]
