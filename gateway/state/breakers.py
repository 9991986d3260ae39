"""Circuit breakers of the back ends: in this process, or in Redis for every worker at once.

Closed: questions pass. After ``failures`` consecutive failures the breaker opens: the back end
is skipped. After ``reset_after`` seconds one question is let through (half-open); its success
closes the breaker, its failure opens it again for another ``reset_after``.

:class:`Breaker` is the interface the router (gateway/routing.py) uses; :class:`CircuitBreaker`
keeps the state in this process, :class:`RedisCircuitBreaker` in Redis, so a back end that
failed for one worker is skipped by all of them and one probe at a time tests it for all.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("gateway.routing")


@dataclass(frozen=True, slots=True)
class BreakerState:
    #: ``closed``, ``open`` or ``half_open``.
    state: str
    failures: int


class Breaker(ABC):
    def __init__(self, failures: int, reset_after: float) -> None:
        self.threshold = failures
        self.reset_after = reset_after

    @abstractmethod
    async def allow(self) -> bool:
        """Whether a question may go to the back end now (taking the probe when half-open)."""

    @abstractmethod
    async def succeeded(self) -> None: ...

    @abstractmethod
    async def failed(self) -> None: ...

    @abstractmethod
    async def release(self) -> None:
        """The question let through ended without a verdict (the resident left)."""

    @abstractmethod
    async def snapshot(self) -> BreakerState: ...


class CircuitBreaker(Breaker):
    """The breaker of one back end in this process."""

    def __init__(
        self, failures: int, reset_after: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(failures, reset_after)
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.probing = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.reset_after:
            return "half_open"
        return "open"

    async def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self.probing:
            self.probing = True
            return True
        return False

    async def succeeded(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.probing = False

    async def failed(self) -> None:
        self.failures += 1
        if self.probing or self.failures >= self.threshold:
            self.opened_at = self.clock()
        self.probing = False

    async def release(self) -> None:
        self.probing = False

    async def snapshot(self) -> BreakerState:
        return BreakerState(self.state, self.failures)


# The breaker's hash holds ``failures`` and, while open, ``opened`` (Redis server time in
# milliseconds, so workers on several machines agree). The probe is a key of its own that
# expires, so a worker that dies while probing does not hold the breaker half-open for ever.
_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "

_ALLOW = (
    _NOW
    + """
local opened = tonumber(redis.call('HGET', KEYS[1], 'opened'))
if not opened then return 1 end
if now - opened < tonumber(ARGV[1]) then return 0 end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2]) then return 2 end
return 0
"""
)

_FAILED = (
    _NOW
    + """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if failures >= tonumber(ARGV[1]) or redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('HSET', KEYS[1], 'opened', now)
end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return failures
"""
)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""

_SNAPSHOT = (
    _NOW
    + """
local values = redis.call('HMGET', KEYS[1], 'failures', 'opened')
return {tonumber(values[1]) or 0, values[2] and (now - tonumber(values[2])) or -1}
"""
)


class RedisCircuitBreaker(Breaker):
    """The breaker of one back end, shared by every worker through Redis. When Redis cannot
    be reached the breaker lets questions through (the back end's own timeouts still guard
    them) rather than stopping every question."""

    def __init__(
        self,
        redis: Redis,
        key: str,
        failures: int,
        reset_after: float,
        probe_timeout: float = 60.0,
    ) -> None:
        super().__init__(failures, reset_after)
        self.redis = redis
        self.key = key
        self.probe_key = key + ":probe"
        self.probe_timeout = probe_timeout
        # Who holds the probe: this breaker object in this process, for this question.
        self._token = f"{id(self):x}-{time.monotonic_ns():x}"
        self._probing = False
        self._allow = redis.register_script(_ALLOW)
        self._failed = redis.register_script(_FAILED)
        self._release = redis.register_script(_RELEASE)
        self._snapshot = redis.register_script(_SNAPSHOT)

    async def allow(self) -> bool:
        try:
            verdict = await self._allow(
                keys=[self.key, self.probe_key],
                args=[
                    round(self.reset_after * 1000),
                    round(self.probe_timeout * 1000),
                    self._token,
                ],
            )
        except Exception as exc:
            log.warning(
                "breaker %s: Redis unavailable (%s); letting the question through", self.key, exc
            )
            return True
        if verdict == 2:
            self._probing = True
        return verdict != 0

    async def succeeded(self) -> None:
        self._probing = False
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(self.key)
                pipe.delete(self.probe_key)
                await pipe.execute()
        except Exception as exc:
            log.warning("breaker %s: Redis unavailable (%s)", self.key, exc)

    async def failed(self) -> None:
        self._probing = False
        try:
            await self._failed(keys=[self.key, self.probe_key], args=[self.threshold, self._token])
        except Exception as exc:
            log.warning("breaker %s: Redis unavailable (%s)", self.key, exc)

    async def release(self) -> None:
        if not self._probing:
            return
        self._probing = False
        try:
            await self._release(keys=[self.probe_key], args=[self._token])
        except Exception as exc:
            log.warning("breaker %s: Redis unavailable (%s)", self.key, exc)

    async def snapshot(self) -> BreakerState:
        try:
            failures, since = await self._snapshot(keys=[self.key])
        except Exception:
            return BreakerState("unknown", 0)
        if since < 0:
            return BreakerState("closed", failures)
        return BreakerState("open" if since < self.reset_after * 1000 else "half_open", failures)
