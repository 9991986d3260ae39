"""The error contract on inputs an outside probe found gaps in (issue 18): text no encoder
takes, loose booleans, wrong methods, unknown addresses. Each gets the gateway's own JSON in
the resident's language — never a 500, never another shape."""

from __future__ import annotations

import pytest

from tests.gateway.test_faults import events_of
from tests.gateway.test_output_payloads import model_route
from tests.gateway.test_safety_api import gateway
from tests.servers import openai as openai_server
from tests.servers import running

pytestmark = pytest.mark.anyio

#: A lone surrogate, as JSON writes it: half of an emoji a client cut in two.
LONE = '"\\ud800居住证怎么办理"'
JSON = {"Content-Type": "application/json", "Accept-Language": "en"}


async def test_a_lone_surrogate_is_taken_out_and_the_question_answered(make_settings):
    with running(openai_server.create_app) as llm:
        async with gateway(make_settings, model_route(llm.url)) as client:
            plain = await client.post(
                "/api/v1/chat", content=f'{{"message": {LONE}}}', headers=JSON
            )
            streamed = await client.post(
                "/api/v1/chat", content=f'{{"message": {LONE}, "stream": true}}', headers=JSON
            )
            analyzed = await client.post(
                "/api/v1/analyze", content=f'{{"text": {LONE}}}', headers=JSON
            )
            only = await client.post("/api/v1/chat", content='{"message": "\\udfff"}', headers=JSON)
        # What the model was asked: the question without the half character.
        assert [r["json"]["messages"][-1]["content"] for r in llm.requests][:2] == [
            "居住证怎么办理"
        ] * 2
    assert plain.status_code == 200 and plain.json()["found"]
    assert events_of(streamed.text)[-1][0] == "done"
    assert analyzed.status_code == 200 and analyzed.json()["original"] == "居住证怎么办理"
    # Nothing but the half character: an empty question, said so in the asker's language.
    assert only.status_code == 422
    assert only.json()["error"] == {
        "code": "empty_message",
        "message": only.json()["error"]["message"],
    }


async def test_a_lone_surrogate_on_the_openai_facade_is_a_clear_400(make_settings):
    async with gateway(make_settings) as client:
        for stream in ("false", "true"):
            body = f'{{"messages": [{{"role": "user", "content": {LONE}}}], "stream": {stream}}}'
            response = await client.post("/v1/chat/completions", content=body, headers=JSON)
            assert response.status_code == 400
            assert response.json()["error"]["code"] == "invalid_json"
            assert response.json()["error"]["message"].startswith("The request was not")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/chat", {"message": "居住证怎么办理", "stream": "yes"}),
        ("/api/v1/chat", {"message": "居住证怎么办理", "correct": 0}),
        ("/api/v1/analyze", {"text": "居住证怎么办理", "correct": "false"}),
        ("/api/v1/feedback", {"message_id": "abc", "helpful": "true"}),
        (
            "/v1/chat/completions",
            {"messages": [{"role": "user", "content": "居住证"}], "stream": 1},
        ),
    ],
)
async def test_booleans_are_strict(make_settings, path, body):
    async with gateway(make_settings) as client:
        response = await client.post(path, json=body, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["message"].startswith("请求内容")
    assert "bool" in error["message"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/chat", "POST"),
        ("GET", "/api/v1/feedback", "POST"),
        ("DELETE", "/api/v1/hot", "GET"),
        ("PATCH", "/api/v1/speech", "GET, POST"),
        ("PUT", "/api/v1/admin/unanswered", "GET"),
        ("GET", "/v1/chat/completions", "POST"),
        ("POST", "/healthz", "GET"),
        ("OPTIONS", "/api/v1/categories", "GET"),
    ],
)
async def test_a_wrong_method_is_a_translated_405_with_allow(make_settings, method, path, allow):
    async with gateway(make_settings) as client:
        response = await client.request(method, path, headers={"Accept-Language": "fr"})
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["error"] == {
        "code": "method_not_allowed",
        "message": "Ce type de requête n’est pas pris en charge ici.",
    }


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/admin/nothing", "/nothing"])
async def test_an_unknown_address_is_a_translated_404(make_settings, path):
    async with gateway(make_settings) as client:
        response = await client.get(path, headers={"Accept-Language": "ja"})
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "お探しのアドレスは存在しません。",
    }
