"""Abuse limits with the ``limits`` library: questions per client address and per conversation.

Counters live in the storage ``[limits] storage_uri`` names: ``memory://`` (this process) now;
``redis://…`` when several gateway processes must share them (``limits`` speaks Redis, Redis
Cluster, Memcached, MongoDB). docs/safety.md.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio import strategies
from limits.storage import storage_from_string

from gateway.config import ConfigError, LimitsConfig

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


class RateLimiter:
    def __init__(self, config: LimitsConfig) -> None:
        self.config = config
        uri = config.storage_uri
        if not uri.startswith("async+"):
            uri = f"async+{uri}"
        try:
            self.storage = storage_from_string(uri)
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
            if not await self.strategy.hit(rate, scope, key):
                stats = await self.strategy.get_window_stats(rate, scope, key)
                seconds = max(1.0, math.ceil(stats.reset_time - time.time()))
                wait = max(wait or 0.0, seconds)
        return wait

    async def reset(self) -> None:
        await self.storage.reset()
