"""Foreign residents through the whole gateway: curated translations first, machine
translation with a notice and the original, and honest degradation."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

import locales
from gateway.config import load_settings
from gateway.services import Services
from tests.processes import free_port
from tests.servers import libretranslate, serve

pytestmark = pytest.mark.anyio

STATIC_CHINESE = """
[[backends]]
name = "clerk"
type = "static"
answer = "请带上身份证到派出所办理。"

[[routes]]
match = "*"
backends = ["clerk"]
"""


def libretranslate_config(url: str, extra: str = "") -> str:
    # Questions are machine translated for back ends that read Chinese alone: here the faq
    # back end without dense retrieval (with it, it reads the resident's own text).
    return f"""
[knowledge]
embedder = "none"

[translation]
engine = "libretranslate"
{extra}

[translation.options.libretranslate]
url = "{url}"
"""


@pytest.fixture
def server() -> Iterator[tuple[str, list]]:
    app = libretranslate.create_app()
    with serve(app) as url:
        yield url, app.state.requests


@pytest.fixture
def failing_server() -> Iterator[str]:
    with serve(libretranslate.create_app(fail=True)) as url:
        yield url


async def ask(client, message: str, lang: str = "en") -> dict:  # type: ignore[no-untyped-def]
    reply = await client.post("/api/v1/chat", json={"message": message, "lang": lang})
    assert reply.status_code == 200, reply.text
    return reply.json()


async def curated_entry(entry_id: str):  # type: ignore[no-untyped-def]
    knowledge = await Services(load_settings(None, environ={})).knowledge()
    return knowledge.by_id[entry_id]


def codes(body: dict) -> list[str]:
    return [notice["code"] for notice in body["notices"]]


async def test_english_residence_permit_question_gets_the_curated_answer_with_no_engine(
    serve_app,
) -> None:
    async with serve_app() as client:
        body = await ask(client, "How do I apply for a residence permit?")
    assert body["found"] and body["language"] == "en"
    assert body["answer"].startswith("**Eligibility**: you have left the place of your hukou")
    assert "residence registration" in body["answer_text"]
    assert body["original_answer"] is None
    assert "machine_translated" not in codes(body)


async def test_with_no_engine_an_uncurated_answer_stays_chinese_with_a_note(serve_app) -> None:
    async with serve_app(STATIC_CHINESE) as client:
        body = await ask(client, "Where do I register my address?")
    assert body["answer"] == "请带上身份证到派出所办理。"
    assert codes(body) == ["not_translated"]
    assert "12345" in body["notices"][0]["message"]
    assert body["notices"][0]["message"].startswith("This answer could not be translated")


async def test_with_no_engine_an_unmatched_question_is_not_found_with_a_note(serve_app) -> None:
    async with serve_app('[knowledge]\nembedder = "none"\n') as client:
        body = await ask(client, "Where can I buy a bicycle?")
    assert not body["found"]
    assert codes(body) == ["question_not_translated"]


async def test_a_back_end_reading_every_language_never_asks_for_chinese(serve_app) -> None:
    async with serve_app() as client:
        body = await ask(client, "Where can I buy a bicycle?")
    assert not body["found"]
    assert "question_not_translated" not in codes(body)


async def test_machine_translated_answer_has_a_notice_and_the_chinese_original(
    serve_app, server
) -> None:
    url, requests = server
    async with serve_app(libretranslate_config(url)) as client:
        body = await ask(client, "I lost my driving license. How do I replace it?")
    # The question reached the FAQ as Chinese, with the official term.
    assert requests[0]["q"] == ["I lost my ZQ1. How do I replace it?"]
    assert body["found"] and body["language"] == "en"
    assert body["original_answer"].startswith("- **网上补证**：在**“交管12123”App**上申请补领")
    assert codes(body) == ["machine_translated"]
    assert body["notices"][0]["message"].startswith("This answer was machine-translated")
    lines = body["answer"].split("\n")
    assert lines[0].startswith("- Replace online")
    assert "Traffic Management 12123 app" in lines[0]
    assert "resident ID card" in lines[1] and "vehicle administration office" in lines[1]
    assert body["citations"][0]["title"] == "driving license guide to replacing a lost (sample)"
    assert body["citations"][0]["url"].endswith("/driving-license-lost-replace")


async def test_a_curated_translation_is_preferred_to_machine_translation(serve_app, server) -> None:
    url, requests = server
    # Only exact matches count as curated questions here, so the question is machine
    # translated; the entry it reaches has a curated English answer, which wins.
    config = libretranslate_config(url, "curated_min_similarity = 1.0")
    async with serve_app(config) as client:
        body = await ask(client, "I lost my ID card. How do I replace it?")
    curated = (await curated_entry("id-card-lost-replace")).translations["en"]
    assert body["answer"] == curated.answer and body["language"] == "en"
    assert body["original_answer"] is None and "machine_translated" not in codes(body)
    assert requests[0]["q"] == ["I lost my ZQ1. How do I replace it?"]


async def test_a_failing_engine_degrades_to_the_chinese_answer(serve_app, failing_server) -> None:
    async with serve_app(libretranslate_config(failing_server) + STATIC_CHINESE) as client:
        body = await ask(client, "Where do I register my address?")
    assert body["answer"] == "请带上身份证到派出所办理。"
    assert codes(body) == ["not_translated"]


async def test_an_unreachable_engine_degrades_to_the_curated_answer(serve_app) -> None:
    config = libretranslate_config(f"http://127.0.0.1:{free_port()}")
    async with serve_app(config) as client:
        body = await ask(client, "How do I apply for a residence permit?")
        other = await ask(client, "Where can I buy a bicycle?")
    assert body["answer"].startswith("**Eligibility**")
    assert not other["found"] and codes(other) == ["question_not_translated"]


STREAMED_CHINESE = """
[[backends]]
name = "llm"
type = "static"
answer = "网上补证：申请补领。\\n窗口补证：带身份证到窗口补证。\\n损坏换证：费用和网上补证一样。"
chunk_chars = 3
chunk_delay = 0.1

[[routes]]
match = "*"
backends = ["llm"]
"""


async def streamed_events(make_settings, toml: str, message: str) -> list[tuple[float, str, dict]]:
    """The gateway's own stream of events (no HTTP in between, which would buffer it), each
    with the time it came, from the question."""
    from gateway.api.replies import sse_events
    from gateway.app import create_app
    from tests.conftest import started

    app = create_app(make_settings(toml))
    async for client in started(app):
        begun = time.monotonic()
        service = client.chat
        events = sse_events(service.stream(service.prepare(message, "en")), "en", "12345")
        return [(time.monotonic() - begun, name, data) async for name, data in events]
    raise AssertionError("the app did not start")


async def test_a_streamed_answer_is_translated_line_by_line_as_it_arrives(
    make_settings, server
) -> None:
    url, _ = server
    events = await streamed_events(
        make_settings, libretranslate_config(url) + STREAMED_CHINESE, "How do I replace my license?"
    )
    names = [name for _, name, _ in events]
    assert names[-2:] == ["citations", "done"] and set(names[:-2]) == {"delta"}
    deltas = [data["text"] for _, name, data in events if name == "delta"]
    done = events[-1][2]
    assert len(deltas) >= 3  # a line at a time, not the whole answer at the end
    assert "".join(deltas) == done["answer"]
    assert deltas[0] == done["answer"].split("\n")[0] + "\n"
    assert deltas[0].startswith("Replace online")
    assert all("补证" not in delta for delta in deltas)  # translated, never the Chinese
    assert "补证" in done["original_answer"] and "machine_translated" in codes(done)
    # The back end takes about 1.2 s to send its last piece (12 pieces, 0.1 s apart): the
    # first line, complete after 4 pieces, is shown long before.
    first_delta, finished = events[0][0], events[-1][0]
    assert finished - first_delta > 0.4


async def test_a_streamed_answer_the_engine_cannot_translate_ends_in_chinese_with_a_note(
    make_settings, failing_server
) -> None:
    events = await streamed_events(
        make_settings,
        libretranslate_config(failing_server) + STREAMED_CHINESE,
        "How do I replace my license?",
    )
    deltas = [data["text"] for _, name, data in events if name == "delta"]
    done = events[-1][2]
    assert "".join(deltas) == done["answer"] and done["answer"].startswith("网上补证")
    assert "not_translated" in codes(done)


async def test_streamed_translated_answers_from_a_back_end_that_does_not_stream_arrive_whole(
    serve_app, server
) -> None:
    url, _ = server
    async with serve_app(libretranslate_config(url)) as client:
        reply = await client.post(
            "/api/v1/chat",
            json={
                "message": "I lost my driving license. How do I replace it?",
                "lang": "en",
                "stream": True,
            },
        )
    events = [
        (block.split("\n")[0][len("event: ") :], json.loads(block.split("\n")[1][len("data: ") :]))
        for block in reply.text.strip().split("\n\n")
    ]
    names = [name for name, _ in events]
    assert names == ["delta", "citations", "done"]
    done = events[-1][1]
    assert events[0][1]["text"] == done["answer"]
    assert "Traffic Management 12123 app" in done["answer"]
    assert done["original_answer"] and "machine_translated" in codes(done)


async def test_chinese_questions_never_reach_the_engine(serve_app, server) -> None:
    url, requests = server
    async with serve_app(libretranslate_config(url)) as client:
        body = await ask(client, "居住证怎么办理？", lang="zh-CN")
        typed_in_chinese = await ask(client, "居住证怎么办理？", lang="en")
    assert body["language"] == "zh" and body["notices"] == []
    assert typed_in_chinese["answer"] == body["answer"]
    assert requests == []


async def test_a_korean_question_is_answered_in_korean_with_official_terms(
    serve_app, server
) -> None:
    url, requests = server
    async with serve_app(libretranslate_config(url)) as client:
        body = await ask(client, "거주증을 신청하려면 무엇이 필요합니까?", lang="zh-CN")
    assert requests[0]["source"] == "ko" and requests[0]["target"] == "zh-Hans"
    assert body["found"] and body["language"] == "ko"
    assert "居住证" in body["original_answer"] and "身份证" in body["original_answer"]
    assert "거주증" in body["answer"] and "주민신분증" in body["answer"]
    assert "居住证" not in body["answer"]
    # In the resident's language, not the Chinese UI language.
    assert body["notices"][0]["message"] == locales.text("notice.machine_translated", "ko")


async def test_a_language_the_engine_lacks_gets_the_chinese_answer_and_a_note(
    serve_app, server
) -> None:
    url, _ = server
    async with serve_app(libretranslate_config(url) + STATIC_CHINESE) as client:
        body = await ask(client, "ต้องใช้หนังสือเดินทางไหม", lang="zh-CN")
    assert body["answer"] == "请带上身份证到派出所办理。"
    assert codes(body) == ["not_translated"]
