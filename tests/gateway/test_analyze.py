"""POST /api/v1/analyze, `gateway analyze`, and what chat tells the resident about it."""

import json

import pytest

from gateway.cli import main
from gateway.config import UnderstandingConfig

pytestmark = pytest.mark.anyio

KEYS = {
    "original",
    "normalized",
    "language",
    "script",
    "corrected",
    "changed",
    "autocorrected",
    "corrections",
    "trace",
}


async def test_analyze_returns_the_analysis(client):
    reply = await client.post("/api/v1/analyze", json={"text": "社宝怎么交？", "lang": "zh-CN"})
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == KEYS
    assert body["language"] == "zh"
    assert body["normalized"] == "社宝怎么交?"
    assert body["corrected"] == "社保怎么交?"
    assert body["corrections"] == [
        {
            "stage": "correct",
            "from": "社宝",
            "to": "社保",
            "span": [0, 2],
            "reason": "homophone",
            "alternative": None,
        }
    ]
    assert [step["stage"] for step in body["trace"]] == UnderstandingConfig().stages
    assert [step["changed"] for step in body["trace"]] == [False, True, False] + [False] * 3 + [
        True
    ]


async def test_analyze_uses_the_ui_language_for_short_text(client):
    chinese = await client.post("/api/v1/analyze", json={"text": "women", "lang": "zh-CN"})
    english = await client.post("/api/v1/analyze", json={"text": "women", "lang": "en"})
    assert chinese.json()["language"] == "pinyin" and chinese.json()["corrected"] == "我们"
    assert english.json()["language"] == "en" and english.json()["corrected"] == "women"


async def test_analyze_refuses_bad_input_in_the_residents_language(client):
    reply = await client.post("/api/v1/analyze", json={"text": "  ", "lang": "en"})
    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "empty_message"
    assert reply.json()["error"]["message"] == "Please type your question."
    reply = await client.post("/api/v1/analyze", json={"message": "社保"})
    assert reply.json()["error"]["code"] == "invalid_request"


async def test_chat_says_what_it_understood(client):
    reply = await client.post("/api/v1/chat", json={"message": "shebaoka diule zenmeban"})
    body = reply.json()
    assert body["did_you_mean"] == "社保卡丢了怎么办"
    assert body["found"]


async def test_chat_does_not_say_it_for_a_question_it_did_not_correct(client):
    reply = await client.post("/api/v1/chat", json={"message": "社保卡丢了怎么办？"})
    assert reply.json()["did_you_mean"] is None


async def test_ask_what_i_typed_sends_the_question_uncorrected(client):
    reply = await client.post("/api/v1/chat", json={"message": "社宝卡丢了", "correct": False})
    assert reply.json()["did_you_mean"] is None
    analysis = await client.post("/api/v1/analyze", json={"text": "社宝卡丢了", "correct": False})
    assert analysis.json()["corrected"] == "社宝卡丢了"
    assert analysis.json()["trace"][-1]["reason"].startswith("skipped")


async def test_did_you_mean_is_masked_and_in_the_residents_script(client):
    reply = await client.post(
        "/api/v1/chat", json={"message": "我的電話13912345678，社寶卡丟了怎麼辦", "lang": "zh-HK"}
    )
    body = reply.json()
    assert body["did_you_mean"] is not None
    assert "13912345678" not in body["did_you_mean"]
    assert "社保卡" in body["did_you_mean"] and "麼" in body["did_you_mean"]


async def test_a_traditional_question_gets_a_traditional_answer(client):
    simplified = (await client.post("/api/v1/chat", json={"message": "居住证怎么办理"})).json()
    traditional = (await client.post("/api/v1/chat", json={"message": "居住證怎麼辦理"})).json()
    assert simplified["found"] and traditional["found"]
    assert "证" in simplified["answer"] and "证" not in traditional["answer"]
    assert "證" in traditional["answer"] and "證" in traditional["answer_text"]


async def test_streamed_answers_are_in_the_residents_script_too(client):
    async with client.stream(
        "POST", "/api/v1/chat", json={"message": "居住證怎麼辦理", "stream": True}
    ) as reply:
        text = "".join([line async for line in reply.aiter_lines()])
    assert "證" in text and "证" not in text


def test_the_cli_prints_the_same_json(capsys):
    main(["analyze", "shebao zenme jiao", "--lang", "zh-CN"])
    body = json.loads(capsys.readouterr().out)
    assert set(body) == KEYS
    assert (body["language"], body["corrected"]) == ("pinyin", "社保怎么交")


def test_the_cli_reports_bad_input_and_fails(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["analyze", "\u200b", "--lang", "en"])
    assert exit_.value.code == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "empty_message"
