"""Faults of real back ends on 127.0.0.1: exactly when the gateway fails over, and what the
resident sees. Two OpenAI-compatible servers: ``primary`` first, ``secondary`` second."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.processes import free_port
from tests.servers import openai as openai_server
from tests.servers import running

pytestmark = pytest.mark.anyio

SECONDARY_ANSWER = "这是备用模型的回答。"


@pytest.fixture(scope="module")
def primary():
    with running(openai_server.create_app) as server:
        yield server


@pytest.fixture(scope="module")
def secondary():
    with running(openai_server.create_app) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(primary, secondary):
    primary.behaviour.reset()
    secondary.behaviour.reset()
    secondary.behaviour.answer = SECONDARY_ANSWER
    yield


def config(primary_url: str, secondary_url: str, **primary_options: object) -> str:
    options = {"timeout": 1.0, "first_token_timeout": 0.3, **primary_options}
    extra = "\n".join(f"{key} = {json.dumps(value)}" for key, value in options.items())
    return f"""
[[backends]]
name = "primary"
type = "openai"
base_url = "{primary_url}/v1"
model = "m"
{extra}

[[backends]]
name = "secondary"
type = "openai"
base_url = "{secondary_url}/v1"
model = "m"

[[routes]]
backends = ["primary", "secondary"]
"""


def events_of(text: str) -> list[tuple[str, dict]]:
    found = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        found.append((lines["event"], json.loads(lines["data"])))
    return found


async def ask(client, stream: bool = False, lang: str = "zh-CN"):
    body = {"message": "居住证怎么办理", "stream": stream, "lang": lang}
    started = time.monotonic()
    response = await client.post("/api/v1/chat", json=body)
    return response, time.monotonic() - started


def assert_the_secondary_answered(response, stream: bool) -> None:
    """The reply, streamed or whole, is the secondary's answer, and all of it."""
    if stream:
        events = events_of(response.text)
        assert [name for name, _ in events][-2:] == ["citations", "done"]
        assert "".join(d["text"] for n, d in events if n == "delta") == SECONDARY_ANSWER
        reply = events[-1][1]
    else:
        reply = response.json()
    assert reply["backend"] == "secondary" and reply["answer"] == SECONDARY_ANSWER


def chat_service(client):
    return client.chat


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"status": 500}, "HTTP 500"),
        ({"status": 429}, "HTTP 429"),
        ({"status": 503}, "HTTP 503"),
        ({"malformed": True}, "malformed JSON"),
        ({"delay": 2.0}, "no answer within 1 s"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
async def test_retryable_failures_fail_over_once_to_the_next_backend(
    serve_app, primary, secondary, fault, expected, stream, caplog
):
    if "delay" in fault:  # a blocking reply is the stream collected: the same deadlines
        expected = "no first piece within 0.3 s"
    for key, value in fault.items():
        setattr(primary.behaviour, key, value)
    async with serve_app(config(primary.url, secondary.url)) as client:
        response, elapsed = await ask(client, stream)
    assert_the_secondary_answered(response, stream)
    assert primary.behaviour.hits == 1, "the failed back end is never asked again"
    assert secondary.behaviour.hits == 1
    assert f"back end primary failed: primary: {expected}" in caplog.text
    assert elapsed < 1.5


async def test_the_failure_reason_is_the_first_attempt(serve_app, primary, secondary):
    primary.behaviour.status = 500
    async with serve_app(config(primary.url, secondary.url)) as client:
        service = chat_service(client)
        plan = await service.router.plan(service.prepare("居住证怎么办理", "zh-CN").query)
        answered = [backend.name async for backend, _ in service.router.stream(plan)]
    assert set(answered) == {"secondary"}
    assert [(a.backend, a.outcome) for a in plan.attempts] == [
        ("primary", "failed"),
        ("secondary", "answered"),
    ]
    assert "HTTP 500" in plan.attempts[0].detail


@pytest.mark.parametrize("stream", [False, True])
async def test_connection_refused_fails_over(serve_app, secondary, stream):
    dead = f"http://127.0.0.1:{free_port()}"
    async with serve_app(config(dead, secondary.url)) as client:
        response, _ = await ask(client, stream)
    assert '"backend": "secondary"' in response.text or response.json()["backend"] == "secondary"


async def test_slow_first_token_fails_over_at_the_first_token_timeout(
    serve_app, primary, secondary
):
    primary.behaviour.first_delay = 3.0  # the stream opens at once, then says nothing
    async with serve_app(config(primary.url, secondary.url)) as client:
        response, elapsed = await ask(client, stream=True)
    events = events_of(response.text)
    assert events[-1][1]["backend"] == "secondary"
    assert 0.3 <= elapsed < 1.0  # the first-token timeout, not the total one
    assert primary.behaviour.answer not in response.text


async def test_a_stream_cut_mid_answer_is_not_failed_over(serve_app, primary, secondary):
    primary.behaviour.cut_after = 2
    async with serve_app(config(primary.url, secondary.url)) as client:
        response, _ = await ask(client, stream=True, lang="en")
        kept = await chat_service(client).store.unanswered()
    events = events_of(response.text)
    names = [name for name, _ in events]
    assert names[0] == "delta" and names[-1] == "error" and set(names[:-1]) == {"delta"}
    shown = "".join(d["text"] for n, d in events if n == "delta")
    # The last few characters received are held back by the sensitive-word review
    # (docs/safety.md), so the resident saw a part of the two pieces, never more.
    assert shown and primary.behaviour.answer[:8].startswith(shown)
    error = events[-1][1]["error"]
    assert error["code"] == "backend_unavailable" and "12345" in error["message"]
    assert "kept" in error["message"]
    assert secondary.behaviour.hits == 0, "no fail-over after the first byte reached the resident"
    assert [(k.question, k.reason) for k in kept] == [("居住证怎么办理", "backend_failed")]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_stall_after_text_the_resident_never_saw_fails_over(
    serve_app, primary, secondary, stream
):
    primary.behaviour.piece_delay = 3.0
    async with serve_app(config(primary.url, secondary.url)) as client:
        response, elapsed = await ask(client, stream=stream)
    # The first piece (4 characters) is shorter than the sensitive-word review holds back (or
    # the reply is collected whole): the resident saw none of it, so the next back end answers,
    # once the stalled one has reached its total timeout.
    assert_the_secondary_answered(response, stream)
    assert primary.behaviour.answer[:4] not in response.text
    assert 1.0 <= elapsed < 2.0 and secondary.behaviour.hits == 1


@pytest.mark.parametrize("status", [400, 401])
async def test_a_refusal_is_not_retried_elsewhere(serve_app, primary, secondary, status):
    primary.behaviour.status = status
    async with serve_app(config(primary.url, secondary.url)) as client:
        response, _ = await ask(client, lang="en")
        kept = await chat_service(client).store.unanswered()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "backend_unavailable"
    assert "12345" in response.json()["error"]["message"]
    assert secondary.behaviour.hits == 0 and len(kept) == 1


@pytest.mark.parametrize(("lang", "words"), [("en", "Sorry"), ("zh-CN", "抱歉"), ("zh-HK", "熱線")])
async def test_when_all_fail_the_resident_is_told_politely_in_their_language(
    serve_app, primary, secondary, lang, words
):
    primary.behaviour.status = 502
    secondary.behaviour.status = 500
    async with serve_app(config(primary.url, secondary.url)) as client:
        response, _ = await ask(client, lang=lang)
        streamed, _ = await ask(client, stream=True, lang=lang)
        kept = await chat_service(client).store.unanswered()
    message = response.json()["error"]["message"]
    assert response.status_code == 503 and words in message and "12345" in message
    assert events_of(streamed.text)[-1][1]["error"]["message"] == message
    assert kept[0].question == "居住证怎么办理" and kept[0].count == 2


async def test_the_circuit_breaker_opens_then_probes_and_closes(serve_app, primary, secondary):
    primary.behaviour.status = 500
    toml = config(primary.url, secondary.url, breaker_failures=2, breaker_reset=0.5)
    async with serve_app(toml) as client:
        for _ in range(3):
            reply = (await ask(client))[0].json()
            assert reply["backend"] == "secondary"
        assert primary.behaviour.hits == 2, "skipped once its breaker opened"
        status = {b["name"]: b for b in (await client.get("/api/v1/backends")).json()["backends"]}
        assert status["primary"]["breaker"] == "open" and not status["primary"]["ok"]
        assert status["primary"]["consecutive_failures"] == 2
        assert status["primary"]["routes"] == ["*"]
        ready = (await client.get("/readyz")).json()
        assert {b["name"]: b["breaker"] for b in ready["backends"]}["primary"] == "open"
        await asyncio.sleep(0.6)
        primary.behaviour.status = 200
        reply = (await ask(client))[0].json()
        assert reply["backend"] == "primary" and primary.behaviour.hits == 3
        status = {b["name"]: b for b in (await client.get("/api/v1/backends")).json()["backends"]}
        assert status["primary"]["breaker"] == "closed"


async def test_a_failed_probe_opens_the_breaker_again(serve_app, primary, secondary):
    primary.behaviour.status = 500
    toml = config(primary.url, secondary.url, breaker_failures=1, breaker_reset=0.3)
    async with serve_app(toml) as client:
        await ask(client)
        await asyncio.sleep(0.35)
        await ask(client)  # the probe fails
        await ask(client)  # skipped again
        lanes = await chat_service(client).router.status()
    assert primary.behaviour.hits == 2 and lanes["primary"]["breaker"] == "open"


async def test_a_backend_at_its_concurrency_limit_passes_questions_on(
    serve_app, primary, secondary
):
    primary.behaviour.piece_delay = 0.2
    toml = config(primary.url, secondary.url, max_concurrency=1, timeout=5.0)
    async with serve_app(toml) as client:
        first, second = await asyncio.gather(ask(client, True), ask(client, True))
    backends = {events_of(r.text)[-1][1]["backend"] for r, _ in (first, second)}
    assert backends == {"primary", "secondary"}
