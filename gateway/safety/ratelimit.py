"""Abuse limits with the ``limits`` library: questions per client address and per conversation.

Counters live in the storage ``[limits] storage_uri`` names — by default ``[redis] url`` when
it is set (every worker counts against the same limits), else ``memory://`` (this process).
``limits`` also speaks Redis Cluster, Sentinel, Memcached and MongoDB. When the storage cannot be
reached the request is let through and the failure logged: limits guard against abuse, and
must not take the service down with them. docs/safety.md.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio import strategies
from limits.storage import storage_from_string

from gateway.config import ConfigError, LimitsConfig

log = logging.getLogger("gateway.limits")

_STRATEGIES = {
    "moving-window": strategies.MovingWindowRateLimiter,
    "fixed-window": strategies.FixedWindowRateLimiter,
    "sliding-window-counter": strategies.SlidingWindowCounterRateLimiter,
}


def _rates(value: str, key: str) -> list[RateLimitItem]:
    if not value.strip():
        return []
    try:
        return parse_many(value)
    except ValueError as exc:
        raise ConfigError(f"limits.{key}: {exc}") from exc


def storage_uri(config: LimitsConfig, redis_url: str = "") -> str:
    """The ``limits`` storage to use: ``[limits] storage_uri``, else ``[redis] url``, else
    this process's memory."""
    uri = config.storage_uri or redis_url or "memory://"
    return uri if uri.startswith("async+") else f"async+{uri}"


class RateLimiter:
    def __init__(self, config: LimitsConfig, redis_url: str = "", key_prefix: str = "") -> None:
        self.config = config
        uri = storage_uri(config, redis_url)
        options: dict[str, str] = {}
        if uri.startswith(("async+redis", "async+rediss")):
            # redis-py, the client the rest of the gateway uses (``limits`` defaults to coredis).
            options = {"implementation": "redispy", "key_prefix": f"{key_prefix}limits"}
        try:
            self.storage = storage_from_string(uri, **options)
        except Exception as exc:  # the library raises several kinds for a bad URI
            raise ConfigError(f"limits.storage_uri: {exc}") from exc
        self.strategy = _STRATEGIES[config.strategy](self.storage)
        self.rates = {
            scope: _rates(getattr(config, scope), scope)
            for scope in ("per_ip", "per_session", "feedback_per_ip", "admin_failures_per_ip")
        }

    async def hit(self, scope: str, key: str) -> float | None:
        """Count one request of ``key`` against the ``scope`` rates; None when it is allowed,
        otherwise the seconds until it would be."""
        wait: float | None = None
        for rate in self.rates[scope]:
            try:
                if await self.strategy.hit(rate, scope, key):
                    continue
                stats = await self.strategy.get_window_stats(rate, scope, key)
            except Exception as exc:
                log.warning("rate limit %s not checked, its storage failed: %s", scope, exc)
                return None
            seconds = max(1.0, math.ceil(stats.reset_time - time.time()))
            wait = max(wait or 0.0, seconds)
        return wait

    async def reset(self) -> None:
        await self.storage.reset()
