"""The MaxKB adapter against a server rebuilt from MaxKB 1.10's and 2.x's own source
(tests/servers/maxkb.py)."""

from __future__ import annotations

import httpx
import pytest

from gateway.backends.base import BackendError, Query
from tests.gateway.adapters import (
    QUESTION,
    Rated,
    adapter,
    answer_of,
    events,
    streamed_text,
    tokens,
)
from tests.servers import maxkb, running

pytestmark = pytest.mark.anyio

KEY = "application-7f3c2b1a9e8d"
#: (version, app type, show_source, chat_path) as portals run them.
SETUPS = [
    (1, "simple", False, "/chat"),
    (1, "workflow", False, "/chat"),
    (2, "simple", True, "/chat"),
    (2, "workflow", True, "/maxkb-chat"),
]


def options(server, version, chat_path="/chat", **more):
    return {
        "base_url": server.url,
        "application_id": "app-1",
        "api_version": version,
        "chat_path": chat_path,
        "api_key_env": "MAXKB_KEY",
        **more,
    }


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("MAXKB_KEY", KEY)


@pytest.mark.parametrize(("version", "app_type", "show_source", "chat_path"), SETUPS)
async def test_each_version_is_reached_with_its_own_key_header_and_cites_its_sources(
    version, app_type, show_source, chat_path
):
    name = f"maxkb-{version}-{app_type}"
    before = tokens(name, "prompt"), tokens(name, "completion")
    with running(
        maxkb.create_app,
        version=version,
        app_type=app_type,
        show_source=show_source,
        chat_path=chat_path,
    ) as server:
        server.behaviour.api_key = KEY
        async with adapter("maxkb", name=name, **options(server, version, chat_path)) as backend:
            collected = await events(backend)
            answer = collected[-1].answer
            again = await backend.ask(
                Query(text="要多久", session_id="s-1", conversation_id=answer.conversation_id)
            )
    assert streamed_text(collected) == server.behaviour.answer == answer.text == again.text
    header = server.requests[0]["headers"]["authorization"]
    assert header == (KEY if version == 1 else f"Bearer {KEY}")
    assert [c.title for c in answer.citations] == ["居住证办理指南"]
    assert answer.citations[0].score == 0.8812 and "身份证" in answer.citations[0].snippet
    # 1.x keeps the document's source_url; 2.x keeps no document meta
    assert answer.citations[0].url == ("https://zwfw.example.org/jzz/guide" if version == 1 else "")
    paths = [request["path"] for request in server.requests]
    assert sum(path.endswith("/open") for path in paths) == 1  # the chat is reused
    if version == 2:
        assert paths[0] == f"{chat_path}/api/open"
    assert server.app.state.chats[answer.conversation_id] == ["居住证怎么办理", "要多久"]
    assert answer.metadata == {
        "message_id": answer.metadata["message_id"],
        "chat_id": answer.conversation_id,
    }
    assert tokens(name, "prompt") - before[0] == 2 * 310
    assert tokens(name, "completion") - before[1] == 2 * 42


async def test_maxkb_1_refuses_a_bearer_key_which_is_why_none_is_sent():
    with running(maxkb.create_app) as server:
        server.behaviour.api_key = KEY
        async with adapter("maxkb", **options(server, 2, chat_path="/chat")) as wrong:
            with pytest.raises(BackendError):
                await events(wrong)  # a 2.x adapter speaking to 1.x: paths and header differ
        refused = httpx.get(
            server.url + "/api/application/app-1/chat/open",
            headers={"Authorization": f"Bearer {KEY}"},
        )
    assert refused.status_code == 401 and refused.json()["code"] == 1002


@pytest.mark.parametrize("version", [1, 2])
async def test_a_wrong_key_is_a_refusal(version, monkeypatch):
    monkeypatch.setenv("MAXKB_KEY", "application-wrong")
    with running(maxkb.create_app, version=version) as server:
        server.behaviour.api_key = KEY
        async with adapter("maxkb", **options(server, version)) as backend:
            with pytest.raises(BackendError, match="401") as failure:
                await events(backend)
    assert not failure.value.retryable  # MaxKB says code 500, but with HTTP 401


async def test_maxkb_2_without_show_source_gives_no_sources_but_the_answer():
    with running(maxkb.create_app, version=2, show_source=False) as server:
        async with adapter("maxkb", **options(server, 2)) as backend:
            answer = await answer_of(backend)
    assert answer.found and answer.text == server.behaviour.answer and answer.citations == []


async def test_maxkb_2_sources_link_through_the_operator_s_template():
    with running(maxkb.create_app, version=2, show_source=True) as server:
        templates = {"政务知识库": "https://zwfw.example.org/docs/{document_id}"}
        async with adapter("maxkb", **options(server, 2, source_urls=templates)) as backend:
            answer = await answer_of(backend)
    assert (
        answer.citations[0].url == f"https://zwfw.example.org/docs/{maxkb.PARAGRAPH['document_id']}"
    )


@pytest.mark.parametrize("app_type", maxkb.APP_TYPES)
async def test_a_failing_model_streamed_as_content_never_reaches_the_resident(app_type):
    with running(maxkb.create_app, app_type=app_type) as server:
        server.behaviour.extra["fail"] = "model"
        async with adapter("maxkb", **options(server, 1)) as backend:
            collected = []
            with pytest.raises(BackendError, match="Exception") as failure:
                async for event in backend.stream(QUESTION):
                    collected.append(event)
    assert collected == [] and failure.value.retryable


async def test_a_chat_maxkb_forgot_is_opened_anew():
    with running(maxkb.create_app) as server:
        async with adapter("maxkb", **options(server, 1)) as backend:
            first = await answer_of(backend)
            follow_up = Query(
                text="要多久", session_id="s-1", conversation_id=first.conversation_id
            )
            server.behaviour.extra["forget"] = True
            again = await answer_of(backend, follow_up)
    assert again.found and again.conversation_id != first.conversation_id
    assert sum(r["path"].endswith("/chat/open") for r in server.requests) == 2


async def test_the_designated_answer_for_nothing_found_is_not_found():
    with running(maxkb.create_app) as server:
        server.behaviour.extra["empty"] = True
        async with adapter(
            "maxkb", **options(server, 1, empty_replies=[maxkb.DESIGNATED])
        ) as backend:
            answer = await answer_of(backend)
    assert not answer.found and answer.text == "" and answer.citations == []


@pytest.mark.parametrize("version", [1, 2])
async def test_the_residents_rating_is_maxkb_s_vote(version):
    with running(maxkb.create_app, version=version) as server:
        async with adapter("maxkb", **options(server, version)) as backend:
            good = await answer_of(backend)
            bad = await answer_of(
                backend,
                Query(text="要多久", session_id="s-1", conversation_id=good.conversation_id),
            )
            await backend.feedback(Rated(good.metadata), helpful=True, comment="")
            await backend.feedback(Rated(bad.metadata), helpful=False, comment="太慢")
            with pytest.raises(BackendError, match="已经投票过"):
                await backend.feedback(Rated(bad.metadata), helpful=True, comment="")
    records = server.app.state.records
    assert records[good.metadata["message_id"]]["vote_status"] == "0"
    assert records[bad.metadata["message_id"]]["vote_status"] == "1"
