"""``/metrics`` for Prometheus, request ids, and JSON logs without personal data."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.anyio


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_stages_back_ends_fail_overs_breakers_languages_and_safety(
    serve_app,
):
    toml = """
[[backends]]
name = "faq"
type = "faq"
[[backends]]
name = "down"
type = "openai"
base_url = "http://127.0.0.1:9"
model = "m"
breaker_failures = 1
[[routes]]
backends = ["down", "faq"]
"""
    async with serve_app(toml) as client:
        before = samples((await client.get("/metrics")).text)
        await client.post("/api/v1/chat", json={"message": "居住证怎么办理"})
        await client.post(
            "/api/v1/chat", json={"message": "How do I apply for a passport?", "lang": "en"}
        )
        await client.post("/api/v1/chat", json={"message": "我的手机13812345678丢了怎么办"})
        response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def grew(name, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert (
        grew("gateway_http_requests_total", route="/api/v1/chat", method="POST", status="200") == 3
    )
    assert grew("gateway_http_request_seconds_count", route="/api/v1/chat") == 3
    assert grew("gateway_stage_seconds_count", stage="sanitize") == 3
    assert grew("gateway_stage_seconds_count", stage="route") == 3
    assert grew("gateway_stage_seconds_count", stage="review_answer") >= 2
    assert grew("gateway_backend_requests_total", backend="down", outcome="failed") == 1
    assert grew("gateway_backend_requests_total", backend="down", outcome="skipped") == 2
    faq = [grew("gateway_backend_seconds_count", backend="faq", outcome=outcome)
           for outcome in ("answered", "not_found")]  # fmt: skip
    assert faq[0] >= 1 and sum(faq) == 3
    assert grew("gateway_failovers_total", backend="down") == 3
    assert grew("gateway_breaker_opened_total", backend="down") == 2
    assert value(after, "gateway_breaker_state", backend="down") == 2  # open
    assert value(after, "gateway_breaker_state", backend="faq") == 0
    assert grew("gateway_questions_total", language="zh") == 2
    assert grew("gateway_questions_total", language="en") == 1
    assert grew("gateway_safety_events_total", kind="personal_data_masked") == 1
    assert "13812345678" not in response.text


async def test_corrections_and_unanswered_and_feedback_are_counted(serve_app):
    async with serve_app() as client:
        before = samples((await client.get("/metrics")).text)
        # Full-width letters and spaces: the sanitize stage changes the text.
        await client.post("/api/v1/chat", json={"message": "  居住证　怎么办理？？  "})
        reply = (await client.post("/api/v1/chat", json={"message": "我家的猫不吃饭"})).json()
        await client.post(
            "/api/v1/feedback", json={"message_id": reply["message_id"], "helpful": False}
        )
        after = samples((await client.get("/metrics")).text)
    assert value(after, "gateway_corrections_total", stage="sanitize") > value(
        before, "gateway_corrections_total", stage="sanitize"
    )
    assert (
        value(after, "gateway_unanswered_total", reason="not_found")
        - value(before, "gateway_unanswered_total", reason="not_found")
        == 1
    )
    assert (
        value(after, "gateway_feedback_total", helpful="false")
        - value(before, "gateway_feedback_total", helpful="false")
        == 1
    )


async def test_metrics_can_be_switched_off(serve_app):
    async with serve_app("[metrics]\nenabled = false\n") as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_every_response_carries_a_request_id(client):
    made_up = await client.get("/healthz")
    assert len(made_up.headers["X-Request-ID"]) == 32
    given = "0f8fad5b-d9cb-469f-a165-70867728950e"
    echoed = await client.get("/healthz", headers={"X-Request-ID": given})
    assert echoed.headers["X-Request-ID"] == given
    # Anything that is not a UUID is replaced, so logs cannot be forged through the header.
    forged = await client.get("/healthz", headers={"X-Request-ID": "x\nlevel=ERROR"})
    assert forged.headers["X-Request-ID"] != "x\nlevel=ERROR"


async def test_logs_are_json_lines_with_the_request_id_and_no_personal_data(client, json_logs):
    request_id = "6f1e2c1a-6a3e-4b7e-9d0e-1234567890ab"
    await client.post(
        "/api/v1/chat",
        json={"message": "身份证110101199003071234丢了，电话13812345678"},
        headers={"X-Request-ID": request_id},
    )
    logging.getLogger("gateway.test").warning("back end said: 13812345678 is busy")
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "gateway.access"]
    assert access and access[0]["request_id"] == request_id
    assert access[0]["route"] == "/api/v1/chat" and access[0]["status"] == 200
    assert {"time", "level", "message"} <= set(access[0])
    assert "client" not in json.dumps(access[0]) and "127.0.0.1" not in json_logs.getvalue()
    text = json_logs.getvalue()
    assert "13812345678" not in text and "110101199003071234" not in text
    assert any("back end said" in line["message"] for line in lines)


def test_every_field_of_a_log_line_is_masked(json_logs):
    # issue 18: the access log's path was written as requested, number and all
    logging.getLogger("gateway.access").info(
        "GET %s 404",
        "/api/v1/x/138 1234 5678",
        extra={"path": "/api/v1/x/１３８.１２３４.５６７８", "note": "一三八一二三四五六七八"}
        | {"ms": 1},
    )
    try:
        raise ValueError("card 6222 0200 0000 0000 000 refused")
    except ValueError:
        logging.getLogger("gateway.test").exception("back end failed")
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    assert lines[0]["message"] == "GET /api/v1/x/[手机号码] 404"
    assert lines[0]["path"] == "/api/v1/x/[手机号码]" and lines[0]["note"] == "[手机号码]"
    assert lines[0]["ms"] == 1
    assert "[银行卡号]" in lines[1]["exc_info"] and "6222" not in json_logs.getvalue()


def test_a_request_id_shaped_like_a_phone_number_is_written_as_it_is(json_logs):
    # One random request id in 25 holds eleven digits in a row that look like a mobile number.
    from asgi_correlation_id import correlation_id

    request_id = "13812345678a4bcd8ef0123456789abc"
    token = correlation_id.set(request_id)
    try:
        logging.getLogger("gateway.access").info("GET /api/v1/x 200", extra={"ms": 1})
    finally:
        correlation_id.reset(token)
    line = json.loads(json_logs.getvalue().splitlines()[0])
    assert line["request_id"] == request_id
