"""State shared by several workers through a real Redis server: conversations, circuit
breakers, rate limits, the translation cache, hot-question counts and knowledge-base reloads —
and what happens when Redis goes away."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from gateway.backends.base import Turn
from gateway.config import HotConfig, LimitsConfig, SessionsConfig
from gateway.safety.ratelimit import RateLimiter
from gateway.state.breakers import CircuitBreaker, RedisCircuitBreaker
from gateway.state.hot import MemoryHotCounter, RedisHotCounter
from gateway.state.sessions import RedisSessionStore
from gateway.translation.cache import RedisCache
from tests.gateway.knowledge_copy import add_dog_entry, sample_copy

pytestmark = pytest.mark.anyio


@pytest.fixture
async def redis(redis_url):
    client = Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
    yield client
    await client.aclose()


# -- conversations -------------------------------------------------------------------------


async def test_a_conversation_written_by_one_worker_is_read_by_another(redis):
    config = SessionsConfig(max_turns=2)
    first, second = RedisSessionStore(config, redis), RedisSessionStore(config, redis)
    await first.append(
        "s1", [Turn("user", "居住证怎么办"), Turn("assistant", "带身份证")], "dify", "c-1"
    )
    await second.append("s1", [Turn("user", "要多久"), Turn("assistant", "十五天")], "maxkb", "c-2")
    await first.append("s1", [Turn("user", "在哪办"), Turn("assistant", "派出所")])
    conversation = await second.load("s1")
    # The last two pairs only; both back ends' conversation ids.
    assert [turn.content for turn in conversation.turns] == ["要多久", "十五天", "在哪办", "派出所"]
    assert conversation.backend_ids == {"dify": "c-1", "maxkb": "c-2"}
    assert (await first.load("someone-else")).turns == []


async def test_conversations_expire_after_their_ttl(redis):
    store = RedisSessionStore(SessionsConfig(ttl=1), redis)
    await store.append("s1", [Turn("user", "你好")], "dify", "c-1")
    assert 0 < await redis.ttl("gateway:s1:turns") <= 1
    await asyncio.sleep(1.2)
    conversation = await store.load("s1")
    assert conversation.turns == [] and conversation.backend_ids == {}


# -- circuit breakers ------------------------------------------------------------------------


def breakers(redis, count=2, **options):
    options = {"failures": 2, "reset_after": 0.3, **options}
    return [RedisCircuitBreaker(redis, "gateway:breaker:llm", **options) for _ in range(count)]


async def test_failures_seen_by_different_workers_open_the_breaker_for_all(redis):
    first, second = breakers(redis)
    assert await first.allow() and await second.allow()
    await first.failed()
    assert (await second.snapshot()).state == "closed"
    await second.failed()  # the second consecutive failure, from another worker
    assert not await first.allow() and not await second.allow()
    assert (await first.snapshot()).state == "open"
    await asyncio.sleep(0.35)
    assert (await second.snapshot()).state == "half_open"
    # One probe for all workers.
    assert [await first.allow(), await second.allow()] == [True, False]
    await first.succeeded()
    assert (await second.snapshot()).state == "closed" and await second.allow()


async def test_a_failed_probe_opens_the_breaker_again_for_everyone(redis):
    first, second = breakers(redis, failures=1)
    await first.failed()
    await asyncio.sleep(0.35)
    assert await second.allow()  # the probe
    await second.release()
    await second.failed()
    assert not await first.allow()
    assert (await first.snapshot()).state == "open"


async def test_a_worker_that_dies_while_probing_does_not_hold_the_breaker(redis):
    first, second = breakers(redis, failures=1, probe_timeout=0.3)
    await first.failed()
    await asyncio.sleep(0.35)
    assert await first.allow()  # takes the probe, then its worker dies
    assert not await second.allow()
    await asyncio.sleep(0.35)  # the probe's time is up
    assert await second.allow()


async def test_the_redis_breaker_behaves_like_the_one_in_process(redis):
    """The same sequence of events gives the same states in both implementations."""
    shared = RedisCircuitBreaker(redis, "gateway:breaker:x", failures=3, reset_after=0.3)
    local = CircuitBreaker(failures=3, reset_after=0.3)
    for step in ["f", "f", "s", "f", "f", "f", "a", "wait", "a", "a", "f", "a", "wait", "a", "s"]:
        if step == "wait":
            await asyncio.sleep(0.35)
            continue
        if step == "a":
            assert await shared.allow() == await local.allow(), step
        else:
            await (shared.failed() if step == "f" else shared.succeeded())
            await (local.failed() if step == "f" else local.succeeded())
        assert (await shared.snapshot()).state == (await local.snapshot()).state


# -- rate limits, translations, hot questions -------------------------------------------------


async def test_a_rate_limit_counts_the_requests_of_every_worker(redis_url):
    config = LimitsConfig(per_session="3/minute")
    first, second = RateLimiter(config, redis_url), RateLimiter(config, redis_url)
    verdicts = [await limiter.hit("per_session", "s1") for limiter in (first, second) * 2]
    assert verdicts[:3] == [None, None, None]
    assert verdicts[3] is not None and verdicts[3] >= 1
    assert await first.hit("per_session", "s2") is None  # another conversation


async def test_translations_are_shared_and_expire(redis):
    first, second = RedisCache(redis, ttl=1), RedisCache(redis, ttl=1)
    await first.set("translation:argos:en:zh:abc", "居住证怎么办理")
    assert await second.get("translation:argos:en:zh:abc") == "居住证怎么办理"
    await asyncio.sleep(1.2)
    assert await second.get("translation:argos:en:zh:abc") is None


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_hot_counts_decay_with_time(kind, redis):
    clock = Clock()
    config = HotConfig(half_life_hours=1, bucket_minutes=60, window_days=1)
    if kind == "memory":
        counter = MemoryHotCounter(config, clock)
    else:
        counter = RedisHotCounter(config, redis, clock=clock)
    for _ in range(8):
        await counter.record("old-favourite")
    clock.now += 3 * 3600  # three half-lives later
    for _ in range(3):
        await counter.record("new-question")
    assert await counter.top(5) == [("new-question", 3.0), ("old-favourite", 1.0)]
    clock.now += 25 * 3600  # past the window
    assert await counter.top(5) == []


# -- when Redis goes away ----------------------------------------------------------------------


async def test_without_redis_the_shared_parts_step_aside(redis_server, redis_url):
    redis = Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    breaker = RedisCircuitBreaker(redis, "gateway:breaker:faq", failures=1, reset_after=30)
    limiter = RateLimiter(LimitsConfig(per_session="1/minute"), redis_url)
    cache = RedisCache(redis)
    counter = RedisHotCounter(HotConfig(), redis)
    redis_server.stop()
    try:
        await breaker.failed()
        assert await breaker.allow(), "questions go through"
        assert (await breaker.snapshot()).state == "unknown"
        assert await limiter.hit("per_session", "s") is None, "not limited"
        assert await cache.get("k") is None, "a miss"
        await cache.set("k", "v")
        await counter.record("entry")
        assert await counter.top(3) == []
    finally:
        await redis.aclose()
        redis_server.start()


# -- two gateways in front of one Redis --------------------------------------------------------


async def test_two_gateways_share_conversations_limits_hot_questions_and_reloads(
    serve_app, redis_url, tmp_path, monkeypatch
):
    kb = sample_copy(tmp_path)
    monkeypatch.setenv("ASSISTANT_ADMIN_TOKEN", "operator-token")
    toml = f"""
[redis]
url = "{redis_url}"
[knowledge]
paths = ["{kb}"]
reload_check = 0.1
[limits]
per_session = "5/minute"
[hot]
min_count = 2
from_traffic = 2
"""
    async with serve_app(toml) as first, serve_app(toml) as second:

        async def ask(client, message, session_id):
            reply = await client.post(
                "/api/v1/chat", json={"message": message, "session_id": session_id}
            )
            return reply

        # A conversation begun on one continues on the other: the follow-up finds its topic.
        begun = (await ask(first, "居住证怎么办理", "walk-1")).json()
        continued = (await ask(second, "需要什么材料？", "walk-1")).json()
        assert continued["citations"][0]["url"] == begun["citations"][0]["url"]
        # The conversation's rate limit counts both gateways' questions.
        assert (await ask(first, "能代办吗", "walk-1")).status_code == 200
        assert (await ask(second, "要多久", "walk-1")).status_code == 200
        assert (await ask(first, "在哪里办", "walk-1")).status_code == 200
        limited = await ask(second, "收费吗", "walk-1")
        assert limited.status_code == 429 and limited.headers["Retry-After"]
        # Hot questions from both gateways' traffic.
        for client in (first, second, first):
            assert (await ask(client, "领结婚证需要带什么", None)).json()["found"]
        hot = (await second.get("/api/v1/hot")).json()["questions"]
        assert hot[0]["id"] == "marriage-registration"
        assert len({item["id"] for item in hot}) == len(hot) == 10
        # A knowledge-base reload on one gateway reaches the other.
        add_dog_entry(kb)
        assert not (await ask(second, "狗证怎么办", None)).json()["found"]
        reloaded = await first.post(
            "/api/v1/admin/knowledge/reload",
            headers={"Authorization": "Bearer operator-token"},
        )
        assert reloaded.status_code == 200 and reloaded.json()["entries"] == 178
        for _ in range(50):
            answer = (await ask(second, "狗证怎么办", None)).json()
            if answer["found"]:
                break
            await asyncio.sleep(0.1)
        assert answer["found"] and "犬只登记" in answer["answer"]
