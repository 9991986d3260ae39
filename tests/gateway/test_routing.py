"""Falling back between back ends, and what residents see when they all fail."""

import pytest

pytestmark = pytest.mark.anyio

BROKEN_THEN_FAQ = """
[[backends]]
name = "broken"
type = "static"
fail = true

[[backends]]
name = "faq"
type = "faq"

[[routes]]
match = "*"
backends = ["broken", "faq"]
"""

ONLY_BROKEN = """
[[backends]]
name = "broken"
type = "static"
fail = true

[[routes]]
match = "*"
backends = ["broken"]
"""

ECHO = """
[[backends]]
name = "echo"
type = "static"
answer = "你问的是：{question}"
chunk_chars = 3
citations = [{title = "回声", url = "https://zwfw.example.org/echo"}]

[[routes]]
match = "*"
backends = ["echo"]
"""

NOTHING_THEN_ECHO = """
[[backends]]
name = "nothing"
type = "static"
found = false

[[backends]]
name = "echo"
type = "static"
answer = "来自第二个"

[[routes]]
match = "*"
backends = ["nothing", "echo"]
"""


async def test_a_failing_backend_falls_back_to_the_next(serve_app):
    async with serve_app(BROKEN_THEN_FAQ) as client:
        reply = (await client.post("/api/v1/chat", json={"message": "居住证怎么办理"})).json()
        assert reply["backend"] == "faq" and reply["found"]


async def test_when_every_backend_fails_the_resident_gets_the_hotline_and_the_question_is_kept(
    serve_app,
):
    async with serve_app(ONLY_BROKEN) as client:
        response = await client.post(
            "/api/v1/chat", json={"message": "居住证怎么办理", "lang": "en"}
        )
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "backend_unavailable"
        assert "12345" in error["message"] and "kept" in error["message"]
        kept = await client.chat.store.unanswered()
        assert [(k.question, k.reason) for k in kept] == [("居住证怎么办理", "backend_failed")]


async def test_when_every_backend_fails_while_streaming_an_error_event_is_sent(serve_app):
    async with serve_app(ONLY_BROKEN) as client:
        response = await client.post(
            "/api/v1/chat", json={"message": "居住证怎么办理", "stream": True}
        )
        assert response.status_code == 200
        assert "event: error" in response.text and "12345" in response.text


async def test_not_found_moves_on_to_the_next_backend(serve_app):
    async with serve_app(NOTHING_THEN_ECHO) as client:
        reply = (await client.post("/api/v1/chat", json={"message": "随便问问"})).json()
        assert reply["backend"] == "echo" and reply["answer"] == "来自第二个"


async def test_streamed_pieces_add_up_to_the_answer(serve_app):
    async with serve_app(ECHO) as client:
        response = await client.post(
            "/api/v1/chat", json={"message": "你好呀朋友们", "stream": True}
        )
        deltas = [line for line in response.text.splitlines() if line.startswith("event: delta")]
        assert len(deltas) > 2
        assert '"answer": "你问的是：你好呀朋友们"' in response.text


async def test_backends_never_receive_personal_numbers(serve_app):
    async with serve_app(ECHO) as client:
        reply = (
            await client.post(
                "/api/v1/chat",
                json={"message": "手机13812345678和身份证11010519491231002X能办吗", "lang": "en"},
            )
        ).json()
        assert "13812345678" not in reply["answer"] and "11010519491231002X" not in reply["answer"]
        assert "[手机号码]" in reply["answer"] and "[身份证号码]" in reply["answer"]
        assert reply["notices"][0]["code"] == "personal_data_hidden"
        assert "ID number" in reply["notices"][0]["message"]
