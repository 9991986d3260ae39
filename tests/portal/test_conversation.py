"""The portal's handlers, against the real gateway app and against a server that speaks the
gateway's documented wire format (for replies today's gateway does not give yet)."""

import json

import httpx
import pytest

from gateway.api.schemas import ChatResponse
from gateway.app import create_app
from portal.client import GatewayClient
from portal.conversation import Conversation
from tests.conftest import started

pytestmark = pytest.mark.anyio


@pytest.fixture
async def gateway(settings):
    async for client in started(create_app(settings)):
        yield GatewayClient(client=client)


async def steps(conversation, question, messages=(), **options):
    return [u async for u in conversation.ask(question, list(messages), None, **options)]


async def test_an_answer_shows_searching_then_the_answer_and_can_be_rated(gateway):
    conversation = Conversation(gateway, "zh-CN", "12345")
    updates = await steps(conversation, "居住证怎么办理")
    assert 'data-state="searching"' in updates[0].transcript
    assert "正在查找…" in updates[0].transcript and updates[0].message_id is None
    final = updates[-1]
    assert 'data-state="done"' in final.transcript and final.message_id
    assert [m.role for m in final.messages] == ["user", "assistant"]
    assert final.messages[1].citations and final.session_id and final.question == ""
    assert "感谢" in await conversation.rate(final.message_id, False, "  看不懂第二步 ")
    # the next question continues the same conversation
    more = await steps(conversation, "要带什么材料", final.messages)
    assert len(more[-1].messages) == 4


async def test_a_refused_question_is_kept_and_explained_as_an_alert(gateway):
    conversation = Conversation(gateway, "en", "12345")
    final = (await steps(conversation, "x" * 1200))[-1]
    assert final.question == "x" * 1200  # back into the question box
    assert "too long" in final.messages[-1].text and final.messages[-1].error
    assert 'role="alert">Your question is too long' in final.transcript
    empty = (await steps(conversation, "   "))[-1]
    assert empty.messages == [] and "Please type your question." in empty.transcript


async def test_an_unreachable_gateway_gives_the_hotline_in_the_residents_language():
    conversation = Conversation(GatewayClient("http://127.0.0.1:9"), "ko", "12345")
    final = (await steps(conversation, "거주증"))[-1]
    assert final.question == "거주증"
    assert "12345" in final.messages[-1].text and "죄송합니다" in final.messages[-1].text


async def test_shortcuts_are_hot_questions_and_categories_in_the_ui_language(gateway):
    html = await Conversation(gateway, "en", "12345").shortcuts()
    assert '<h2 id="hot-heading" class="section-heading">Popular questions</h2>' in html
    assert 'data-ask="How do I apply for a residence permit?"' in html
    assert 'data-agent="social_insurance"' in html and ">Social insurance</button>" in html
    assert await Conversation(GatewayClient("http://127.0.0.1:9"), "en", "1").shortcuts() == ""


class RecordingGateway:
    """Answers /api/v1/chat as the gateway's API documents it, with a corrected question,
    and keeps the request bodies it received."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        corrected = body.get("correct", True)
        reply = ChatResponse(
            message_id="m1",
            session_id="s1",
            answer="**居住证**：到派出所办理。",
            answer_text="居住证：到派出所办理。",
            language="zh",
            found=True,
            did_you_mean="居住证怎么办理" if corrected else None,
        ).model_dump()
        events = [("delta", {"text": reply["answer"]}), ("citations", {"citations": []})]
        events.append(("done", reply))
        stream = "".join(
            f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
            for name, data in events
        )
        return httpx.Response(200, text=stream, headers={"content-type": "text/event-stream"})


async def test_did_you_mean_is_shown_and_asking_as_typed_sends_correct_false():
    recorder = RecordingGateway()
    client = GatewayClient(
        client=httpx.AsyncClient(transport=httpx.MockTransport(recorder), base_url="http://g")
    )
    conversation = Conversation(client, "zh-CN", "12345")
    final = (await steps(conversation, "juzhuzheng zenme banli"))[-1]
    assert "您是不是要问：居住证怎么办理" in final.transcript
    assert 'data-ask="juzhuzheng zenme banli" data-correct="false"' in final.transcript
    assert "correct" not in recorder.bodies[0]  # the default, correction on
    again = (await steps(conversation, "juzhuzheng zenme banli", correct=False))[-1]
    assert recorder.bodies[1]["correct"] is False
    assert "did-you-mean" not in again.transcript
    await steps(conversation, "社会保险", agent="social_insurance")
    assert recorder.bodies[2]["agent"] == "social_insurance"
