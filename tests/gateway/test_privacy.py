"""No back end of any type ever receives a resident's personal number — not in the question,
not in the conversation history, not through the OpenAI-compatible facade — and no log line,
stored row or kept conversation holds one. Each back end is its real adapter talking to a local
server that speaks the engine's wire format and records every request it gets."""

from __future__ import annotations

import json
import logging
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.safety.pii import id_check_digit, luhn_valid, mask
from tests.servers import dify, faq_service, fastgpt, maxkb, ragflow, running
from tests.servers import openai as openai_server

pytestmark = pytest.mark.anyio


def resident_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def card(prefix: str, length: int = 16) -> str:
    body = prefix.ljust(length - 1, "7")
    return next(body + last for last in "0123456789" if luhn_valid(body + last))


NUMBERS = {
    "resident_id": resident_id("44030619900101123"),
    "old_resident_id": "110105491231002",
    "mobile": "13912345678",
    "mobile_spaced": "+86 138 1234 5678",
    "landline": "0755-23456789",
    "bank_card": card("622202"),
    "email": "li.si@example.com",
    "passport": "E12345678",
}
#: The digits (or the address) of each, as they would appear in any encoding of a request.
NEEDLES = [
    "".join(ch for ch in value if ch.isdigit()) if "@" not in value else value
    for value in NUMBERS.values()
] + ["23456789", "12345678", "li.si@"]

QUESTIONS = [
    f"我的身份证号是{NUMBERS['resident_id']}，居住证怎么办理？",
    f"老身份证{NUMBERS['old_resident_id']}还能用吗，手机{NUMBERS['mobile']}",
    f"请回电{NUMBERS['mobile_spaced']}或{NUMBERS['landline']}，社保卡丢了",
    f"银行卡{NUMBERS['bank_card']}能绑定公积金吗？邮箱{NUMBERS['email']}",
    f"护照号{NUMBERS['passport']}过期了怎么办",
]


def found_in(text: str) -> list[str]:
    digits = "".join(ch for ch in text if ch.isdigit())
    return [needle for needle in NEEDLES if needle in text or needle in digits]


BACKENDS = {
    "openai": (openai_server.create_app, 'base_url = "{url}/v1"\nmodel = "m"'),
    "dify": (dify.create_app, 'base_url = "{url}/v1"'),
    "fastgpt": (fastgpt.create_app, 'base_url = "{url}/api"'),
    "maxkb": (maxkb.create_app, 'base_url = "{url}"\napplication_id = "app-1"'),
    "ragflow": (ragflow.create_app, 'base_url = "{url}"\nchat_id = "chat-1"'),
    "http": (
        faq_service.create_app,
        'base_url = "{url}"\npath = "/api/ask"\n'
        'body = {{q = "{{question}}", s = "{{session_id}}"}}\n'
        'answer = "data.reply"\nfound = "data.hit"',
    ),
    "rag": (openai_server.create_app, 'llm = {{base_url = "{url}/v1", model = "m"}}'),
}


@pytest.mark.parametrize("backend_type", sorted(BACKENDS))
async def test_no_back_end_ever_receives_a_personal_number(
    backend_type, serve_app, caplog, tmp_path
):
    create, options = BACKENDS[backend_type]
    caplog.set_level(logging.DEBUG)
    with running(create) as server:
        server.behaviour.answer = "居住证办理需要身份证 [1]。"
        toml = (
            f'[[backends]]\nname = "engine"\ntype = "{backend_type}"\n'
            + options.format(url=server.url)
            + '\n\n[[routes]]\nbackends = ["engine"]\n'
        )
        async with serve_app(toml, GATEWAY_LIMITS__PER_SESSION="") as client:
            for number, question in enumerate(QUESTIONS):
                # one conversation, so every later question carries the earlier ones as history
                body = {"message": question, "session_id": "walk", "stream": number % 2 == 1}
                response = await client.post("/api/v1/chat", json=body)
                assert response.status_code == 200, response.text
            facade = await client.post(
                "/v1/chat/completions",
                json={
                    "messages": [
                        {"role": "user", "content": QUESTIONS[0]},
                        {
                            "role": "assistant",
                            "content": f"好的，您的手机{NUMBERS['mobile']}已记录",
                        },
                        {"role": "user", "content": QUESTIONS[3]},
                    ],
                    "stream": True,
                },
            )
            assert facade.status_code == 200
            reply = (await client.post("/api/v1/chat", json={"message": QUESTIONS[2]})).json()
            await client.post(
                "/api/v1/feedback",
                json={"message_id": reply["message_id"], "helpful": False, "comment": QUESTIONS[1]},
            )
            service = client.chat
            conversation = await service.sessions.load("walk")
            stored = [
                *(await service.store.unanswered()),
                *(await service.store.feedback()),
                *(await service.store.safety_events()),
            ]
    received = json.dumps(server.requests, ensure_ascii=False)
    assert len(server.requests) >= len(QUESTIONS), "every question reached the back end"
    assert found_in(received) == [], received
    assert "[身份证号码]" in received or backend_type == "http"
    assert len(conversation.turns) >= 2
    assert found_in(json.dumps([t.content for t in conversation.turns], ensure_ascii=False)) == []
    assert found_in(json.dumps([str(row) for row in stored], ensure_ascii=False)) == []
    assert found_in("\n".join(record.getMessage() for record in caplog.records)) == []
    assert "personal_data_hidden" in [notice["code"] for notice in reply["notices"]]


# -- property: whatever surrounds a number, it is masked ----------------------------------------

REGIONS = ["110105", "310104", "440306", "510107", "650102", "210203"]


@st.composite
def personal_numbers(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["id", "old_id", "mobile", "card", "email", "passport"]))
    year = draw(st.integers(1930, 2015))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    region = draw(st.sampled_from(REGIONS))
    if kind == "id":
        return resident_id(f"{region}{year}{month:02d}{day:02d}{draw(st.integers(0, 999)):03d}")
    if kind == "old_id":
        return f"{region}{year % 100:02d}{month:02d}{day:02d}{draw(st.integers(0, 999)):03d}"
    if kind == "mobile":
        return f"1{draw(st.sampled_from('3456789'))}{draw(st.integers(0, 10**9 - 1)):09d}"
    if kind == "card":
        return card(
            draw(st.sampled_from(["622202", "621700", "436742", "558868"])),
            16 + draw(st.integers(0, 3)),
        )
    if kind == "email":
        user = draw(st.from_regex(r"[a-z][a-z0-9._]{1,12}", fullmatch=True))
        return f"{user}@example.gov.cn"
    return f"E{draw(st.integers(10**7, 10**8 - 1)):08d}"


SURROUNDINGS = st.text(
    alphabet=st.sampled_from(list("我的号码是请问怎么办理居住证社保卡，。？：、 ()（）abcXYZ\n")),
    max_size=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=SURROUNDINGS, number=personal_numbers(), after=SURROUNDINGS)
def test_a_personal_number_is_masked_whatever_surrounds_it(before, number, after):
    masked = mask(before + number + after).text
    assert number not in masked
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) >= 6:
        assert digits not in "".join(ch for ch in masked if ch.isdigit())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(number=personal_numbers(), filler=st.sampled_from(["居住证怎么办理", "社保卡补办", "hello"]))
async def test_a_back_end_echoing_its_question_never_shows_a_number(serve_app, number, filler):
    toml = '[[backends]]\nname = "echo"\ntype = "static"\nanswer = "收到：{question}"\n'
    toml += '[[routes]]\nbackends = ["echo"]\n'
    async with serve_app(toml, GATEWAY_LIMITS__PER_IP="", GATEWAY_LIMITS__PER_SESSION="") as client:
        reply = (
            await client.post("/api/v1/chat", json={"message": f"{filler} {number} {filler}"})
        ).json()
    assert number not in reply["answer"] and reply["answer"].startswith("收到：")


def test_samples_are_what_they_claim():
    rng = random.Random(1)
    assert luhn_valid(NUMBERS["bank_card"]) and rng  # the card passes Luhn; IDs their check digit
    assert id_check_digit(NUMBERS["resident_id"][:17]) == NUMBERS["resident_id"][17]
