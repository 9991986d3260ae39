"""Abuse limits with the ``limits`` library: questions per client address and per conversation.

Counters live in the storage ``[limits] storage_uri`` names — by default ``[redis] url`` when
it is set (every worker counts against the same limits), else ``memory://`` (this process).
``limits`` also speaks Redis Cluster, Sentinel, Memcached and MongoDB. When the storage cannot be
reached the request is let through and the failure logged: limits guard against abuse, and
must not take the service down with them. docs/safety.md.
"""

from __future__ import annotations

import bisect
import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio import strategies
from limits.aio.storage import MemoryStorage
from limits.storage import storage_from_string

from gateway.config import ConfigError, LimitsConfig
from gateway.state.shared import limits_storage

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


class SweptMemoryStorage(MemoryStorage):
    """limits' in-process storage, rid of expired entries at most once every ``SWEEP_SECONDS``
    and in one pass on the event loop.

    limits 5.x starts sweeping every key again as soon as its last sweep ended (at the next
    hit), handing each key's search to a thread (``asyncio.to_thread``): with thousands of
    client addresses that took a sixth of the gateway's CPU (docs/benchmarks.md). Expired
    entries only take memory — a hit reads its own key's window whatever is left in it — so
    sweeping less often changes no decision. The pass has no ``await`` in it, so no hit can
    slip in between a key's search and its trim (limits' own sweep can lose an entry there).
    """

    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._next_sweep = 0.0

    # limits calls this (a name-mangled private method) on every hit. Overridden, not
    # configured: limits (5.8) has no public way to space or turn off its sweep — no option of
    # MemoryStorage or storage_from_string, and its ``timer`` task is as internal — so the
    # dependency stays below the next major (pyproject.toml), which may rename this.
    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._sweep()

    def _sweep(self) -> None:
        now = time.time()
        for key, events in list(self.events.items()):
            # Newest first: most keys have nothing expired, which their last entry tells.
            if events and events[-1].expiry > now:
                continue
            kept = events[: bisect.bisect_left(events, -now, key=lambda event: -event.expiry)]
            if kept:
                self.events[key] = kept
            else:
                del self.events[key]
                self.locks.pop(key, None)
        for key, expiry in list(self.expirations.items()):
            if expiry <= now:
                self.storage.pop(key, None)
                del self.expirations[key]
                self.locks.pop(key, None)


class RateLimiter:
    def __init__(self, config: LimitsConfig, redis_url: str = "", key_prefix: str = "") -> None:
        self.config = config
        uri = limits_storage(config, redis_url)
        options: dict[str, str] = {}
        if uri.startswith(("async+redis", "async+rediss")):
            # redis-py, the client the rest of the gateway uses (``limits`` defaults to coredis).
            options = {"implementation": "redispy", "key_prefix": f"{key_prefix}limits"}
        try:
            if uri == "async+memory://":
                self.storage = SweptMemoryStorage()
            else:
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
