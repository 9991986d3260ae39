"""The RAGFlow adapter against a server rebuilt from RAGFlow 0.20, 0.22, 0.25 and the newest
source (tests/servers/ragflow.py)."""

from __future__ import annotations

import httpx
import pytest

from gateway.backends.base import BackendError
from gateway.backends.ragflow import MarkerFilter, cited
from tests.gateway.adapters import (
    QUESTION,
    adapter,
    answer_of,
    events,
    reset_servers,
    streamed_text,
    tokens,
)
from tests.servers import ragflow, running

pytestmark = pytest.mark.anyio

CLEAN = "申领居住证需要身份证、照片和居住证明。到期前30日内签注。"


@pytest.fixture(scope="module", params=ragflow.VERSIONS)
def server(request):
    with running(ragflow.create_app, version=request.param) as server:
        server.app.state.version = request.param
        yield server


@pytest.fixture(autouse=True)
def _fresh(request):
    yield
    reset_servers(request, "server")


def options(server, **more):
    endpoint = "chats_openai" if server.app.state.version in ("0.20", "0.22") else "openai"
    return {"base_url": server.url, "chat_id": "chat-1", "endpoint": endpoint, **more}


async def test_every_version_streams_once_cites_what_the_answer_cites_and_hides_markers(server):
    server.behaviour.answer = ragflow.ANSWER
    server.behaviour.chunk_chars = 5  # markers split across pieces
    server.behaviour.extra["reasoning"] = True
    name = f"ragflow-{server.app.state.version}"
    before = tokens(name, "completion")
    async with adapter("ragflow", name=name, **options(server)) as backend:
        collected = await events(backend)
        whole = await backend.ask(QUESTION)
    text = streamed_text(collected)
    assert text == CLEAN == collected[-1].answer.text == whole.text  # said once, also on 0.25
    answer = collected[-1].answer
    assert [c.title for c in answer.citations] == ["居住证暂行条例.pdf", "居住证签注规定.pdf"]
    assert answer.citations[0].url == "https://zwfw.example.org/law/jzz"
    assert answer.citations[1].url == "" and answer.citations[1].score == 0.5697
    assert whole.citations == answer.citations
    sent = server.requests[0]["json"]
    assert sent["stream"] is True and sent["reference"] is True
    assert sent["extra_body"] == {"reference": True} and sent["model"] == "model"
    assert tokens(name, "completion") - before == 2 * 23


async def test_a_failing_model_written_into_the_text_never_reaches_the_resident(server):
    server.behaviour.extra["fail"] = "model"
    async with adapter("ragflow", **options(server)) as backend:
        collected = []
        with pytest.raises(BackendError, match="ERROR") as failure:
            async for event in backend.stream(QUESTION):
                collected.append(event)
    assert collected == [] and failure.value.retryable


async def test_a_wrong_key_is_a_refusal_in_every_version(server, monkeypatch):
    server.behaviour.api_key = "ragflow-right"
    monkeypatch.setenv("RAGFLOW_KEY", "ragflow-wrong")
    async with adapter("ragflow", **options(server, api_key_env="RAGFLOW_KEY")) as backend:
        with pytest.raises(BackendError, match=r"109|401") as failure:
            await events(backend)
    assert not failure.value.retryable


async def test_the_assistant_s_empty_response_is_not_found(server):
    server.behaviour.extra["empty"] = True
    async with adapter(
        "ragflow", **options(server, empty_replies=[ragflow.EMPTY_RESPONSE])
    ) as backend:
        answer = await answer_of(backend)
    assert not answer.found and answer.text == "" and answer.citations == []


async def test_the_newest_does_not_stream_unasked_and_0_20_did():
    for version, streamed in (("0.20", True), ("main", False)):
        with running(ragflow.create_app, version=version) as server:
            reply = httpx.post(
                server.url + "/api/v1/chats_openai/chat-1/chat/completions",
                json={"model": "model", "messages": [{"role": "user", "content": "q"}]},
            )
        assert ("text/event-stream" in reply.headers["content-type"]) is streamed


def test_every_marker_format_is_removed_and_its_number_read():
    text = "甲 [ID:0]乙【ID: 2】丙(ID:3)丁ref4戊##5$$。"
    pieces = [text[i : i + 2] for i in range(0, len(text), 2)]
    markers = MarkerFilter()
    shown = "".join(markers.feed(piece) for piece in pieces) + markers.feed("", final=True)
    assert shown == "甲乙丙丁戊。"
    assert cited(text) == [0, 2, 3, 4, 5]
    assert MarkerFilter().feed("for reference 12 (see)", final=True) == "for reference 12 (see)"
