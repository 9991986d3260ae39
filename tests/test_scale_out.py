"""Scale-out: two real ``gateway`` processes on two ports sharing a real Redis and a real
PostgreSQL. A conversation begun on one continues on the other; a rate limit of N holds across
both; feedback and unanswered questions from both land in one database, a rating tied to its
answer whichever worker it reaches; a back end's breaker
opened through one is open for the other; killing one process (SIGKILL) loses nothing it had
acknowledged."""

from __future__ import annotations

import json
import threading
from contextlib import ExitStack

import httpx
import psycopg
import pytest

from tests.processes import free_port, script, started

pytestmark = pytest.mark.slow

TOKEN = "scale-out-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
LIMIT = 6
CONFIG = f"""
[limits]
per_session = "{LIMIT}/minute"

[[backends]]
name = "faq"
type = "faq"

# A model nobody serves: it fails, the FAQ answers, and its breaker opens for both workers.
[[backends]]
name = "flaky"
type = "openai"
base_url = "http://127.0.0.1:9"
model = "none"
breaker_failures = 2
breaker_reset = 600

[[routes]]
backends = ["flaky", "faq"]
"""


def ask(url: str, message: str, session_id: str | None = None) -> httpx.Response:
    body = {"message": message, "session_id": session_id}
    return httpx.post(f"{url}/api/v1/chat", json=body, timeout=30)


def test_two_gateways_share_redis_and_postgresql(
    tmp_path, redis_url, postgres_url, postgres_server
):
    config = tmp_path / "gateway.toml"
    config.write_text(CONFIG)
    env = {
        "GATEWAY_REDIS__URL": redis_url,
        "GATEWAY_STATE__DATABASE_URL": postgres_url,
        "ASSISTANT_ADMIN_TOKEN": TOKEN,
        "TEST_LOG_DIR": str(tmp_path),
    }
    with ExitStack() as stack:
        one, two = (
            stack.enter_context(
                started(
                    [script("gateway"), "--port", str(port), "--config", str(config)], port, env
                )
            )
            for port in (free_port(), free_port())
        )
        a, b = one.url, two.url

        # A conversation begun on one continues on the other.
        begun = ask(a, "居住证怎么办理", "walk-1").json()
        continued = ask(b, "需要什么材料？", "walk-1").json()
        assert continued["found"]
        assert continued["citations"][0]["url"] == begun["citations"][0]["url"]

        # The flaky model failed twice, once through each worker: open for both.
        for url in (a, b):
            flaky = {s["name"]: s for s in httpx.get(f"{url}/api/v1/backends").json()["backends"]}
            assert flaky["flaky"]["breaker"] == "open", url

        # A limit of N questions per conversation holds across both workers.
        codes = [ask((a, b)[n % 2], f"第{n}个问题", "walk-1").status_code for n in range(LIMIT)]
        assert codes[: LIMIT - 2] == [200] * (LIMIT - 2) and set(codes[LIMIT - 2 :]) == {429}

        # Feedback and unanswered questions from both land in the one database; a rating
        # reaching the other worker is tied to its answer all the same.
        for url, other in ((a, b), (b, a)):
            answer = ask(url, "领结婚证需要带什么").json()
            rated = httpx.post(
                f"{other}/api/v1/feedback",
                json={"message_id": answer["message_id"], "helpful": url == a},
            )
            assert rated.status_code == 200
            assert not ask(url, "我家的猫不吃饭怎么办, 电话13812345678").json()["found"]
        feedback = httpx.get(f"{b}/api/v1/admin/feedback", headers=ADMIN).json()
        assert feedback["summary"]["helpful"] == 1 and feedback["summary"]["not_helpful"] == 1
        assert {item["question"] for item in feedback["items"]} == {"领结婚证需要带什么"}
        assert {item["backend"] for item in feedback["items"]} == {"faq"}
        assert all(item["entry_id"] for item in feedback["items"])
        items = httpx.get(f"{a}/api/v1/admin/unanswered", headers=ADMIN).json()["items"]
        [cat] = [item for item in items if item["question"].startswith("我家的猫")]
        assert cat["count"] == 2 and "13812345678" not in cat["question"]

        # Killing one worker loses nothing it acknowledged: its conversations, counts and
        # records are in Redis and PostgreSQL, and the other worker carries on.
        ask(a, "居住证怎么办理", "walk-2")
        acknowledged: list[str] = []
        enough = threading.Event()

        def keep_asking() -> None:
            for n in range(200):
                # Off-topic: kept as unanswered once its "no answer" reached the resident.
                question = f"我家第{n}只猫不吃饭怎么办"
                try:
                    reply = ask(a, question)
                    if reply.status_code == 200 and not reply.json()["found"]:
                        acknowledged.append(question)
                except httpx.HTTPError:
                    return
                if len(acknowledged) >= 5:
                    enough.set()

        asker = threading.Thread(target=keep_asking)
        asker.start()
        assert enough.wait(30)
        one.popen.kill()
        asker.join(30)
        one.popen.wait(10)

        after = ask(b, "需要什么材料？", "walk-2").json()
        assert after["found"] and after["citations"][0]["url"] == begun["citations"][0]["url"]
        kept = httpx.get(
            f"{b}/api/v1/admin/unanswered?limit=1000&order=last_seen", headers=ADMIN
        ).json()
        assert set(acknowledged) <= {item["question"] for item in kept["items"]}
        assert ask(b, "还有问题", "walk-1").status_code == 429, "the limit survives too"

        # One database really: read it directly.
        libpq = postgres_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(libpq) as connection:
            assert connection.execute("SELECT count(*) FROM feedback").fetchone()[0] == 2
            questions = {row[0] for row in connection.execute("SELECT question FROM unanswered")}
        assert set(acknowledged) <= questions

        # JSON log lines, each with its request id, and no personal number anywhere.
        text = two.log.read_text()
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        access = [line for line in lines if line["logger"] == "gateway.access"]
        assert access and all(len(line["request_id"]) == 32 for line in access)
        assert "13812345678" not in text and "13812345678" not in one.log.read_text()
