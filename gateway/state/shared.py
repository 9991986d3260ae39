"""What the workers of one gateway share, and where: every choice between this process's memory
and Redis (``[redis] url``) is made here, and every Redis key is named by ``Services.key``
(``[redis] prefix`` + parts joined by ``:``):

==========================  =========================  ======================================
shared thing                without Redis              with Redis, under the key
==========================  =========================  ======================================
conversations               ``memory`` session store   ``session:<id>:turns`` / ``:ids``
circuit breakers            in this process            ``breaker:<back end>``
hot-question counts         in this process            ``hot:<bucket>``
translations                in this process (LRU)      ``translation:<engine>:<pair>:<digest>``
answer records (feedback)   the database               ``answer:<message id>`` (and database)
rate-limit counters         in this process            ``limits…`` (the ``limits`` library's)
knowledge-base generation   —                          ``knowledge:generation``
==========================  =========================  ======================================

(docs/deployment.md.) A configured ``[sessions] store`` or ``[limits] storage_uri`` wins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gateway.config import BackendConfig, LimitsConfig, Settings
from gateway.state.answers import AnswerRecords, RedisAnswerRecords
from gateway.state.breakers import Breaker, RedisCircuitBreaker
from gateway.state.hot import HotCounter, MemoryHotCounter, RedisHotCounter
from gateway.translation.cache import MemoryCache, RedisCache, TranslationCache

if TYPE_CHECKING:
    from gateway.services import Services
    from gateway.state.store import Store


def session_store(settings: Settings) -> str:
    """``[sessions] store``, or ``redis`` when Redis is configured, else ``memory``."""
    return settings.sessions.store or ("redis" if settings.redis.url else "memory")


def limits_storage(config: LimitsConfig, redis_url: str = "") -> str:
    """``[limits] storage_uri``, else ``[redis] url``, else this process's memory."""
    uri = config.storage_uri or redis_url or "memory://"
    return uri if uri.startswith("async+") else f"async+{uri}"


def breakers(services: Services) -> Callable[[str, BackendConfig], Breaker] | None:
    """Each back end's breaker in Redis (one for every worker), or None: in this process."""
    redis = services.redis
    if redis is None:
        return None
    return lambda name, config: RedisCircuitBreaker(
        redis,
        services.key("breaker", name),
        config.breaker_failures,
        config.breaker_reset,
        probe_timeout=config.timeout,
    )


def hot_counter(services: Services) -> HotCounter:
    config = services.settings.hot
    if services.redis is None:
        return MemoryHotCounter(config)
    return RedisHotCounter(config, services.redis, services.key("hot", ""))


def translation_cache(services: Services) -> TranslationCache:
    config = services.settings.translation
    if services.redis is None:
        return MemoryCache(config.cache_size)
    return RedisCache(services.redis, services.key(""), config.cache_ttl)


def answer_records(store: Store, services: Services) -> AnswerRecords:
    """Answer records in the database, and in Redis too when it is configured (both kept
    ``[state] answer_days``)."""
    days = services.settings.state.answer_days
    if services.redis is None:
        return AnswerRecords(store, days)
    return RedisAnswerRecords(store, services.redis, services.key("answer", ""), days)
