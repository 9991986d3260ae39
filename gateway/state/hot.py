"""Hot questions from traffic: how often each knowledge-base entry answered residents lately.

Answers are counted per entry in time buckets (``[hot] bucket_minutes``); a bucket's count
weighs half as much every ``half_life_hours``, and buckets older than ``window_days`` are
forgotten. :class:`HotCounter` is the interface; :class:`MemoryHotCounter` counts in this
process, :class:`RedisHotCounter` in Redis for every worker (one sorted set per bucket, summed
with weights by ``ZUNION``). :class:`HotQuestions` merges the busiest entries with the
knowledge base's curated list. A counter that fails is logged and ignored: hot questions are a
convenience, never a reason to fail an answer.
"""

from __future__ import annotations

import logging
import math
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from gateway.config import HotConfig

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from gateway.knowledge.entries import Entry, KnowledgeBase

log = logging.getLogger("gateway.hot")

#: Seconds the merged list is reused before the counts are read again.
REFRESH_SECONDS = 30.0


class HotCounter(ABC):
    def __init__(self, config: HotConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.bucket_seconds = config.bucket_minutes * 60
        self.buckets = max(1, math.ceil(config.window_days * 86400 / self.bucket_seconds))

    def bucket(self) -> int:
        return int(self.clock() // self.bucket_seconds)

    def weights(self) -> dict[int, float]:
        """The weight of each bucket still in the window, the current one weighing 1."""
        current = self.bucket()
        half_life = self.config.half_life_hours * 3600
        return {
            current - age: 0.5 ** (age * self.bucket_seconds / half_life)
            for age in range(self.buckets)
        }

    @abstractmethod
    async def record(self, entry_id: str) -> None:
        """Count one answer from ``entry_id``."""

    @abstractmethod
    async def top(self, limit: int) -> list[tuple[str, float]]:
        """The ``limit`` entries with the highest decayed counts, highest first."""


class MemoryHotCounter(HotCounter):
    def __init__(self, config: HotConfig, clock: Callable[[], float] = time.time) -> None:
        super().__init__(config, clock)
        self._counts: dict[int, Counter[str]] = {}

    async def record(self, entry_id: str) -> None:
        current = self.bucket()
        self._counts.setdefault(current, Counter())[entry_id] += 1
        for bucket in [b for b in self._counts if b <= current - self.buckets]:
            del self._counts[bucket]

    async def top(self, limit: int) -> list[tuple[str, float]]:
        total: Counter[str] = Counter()
        for bucket, weight in self.weights().items():
            for entry_id, count in self._counts.get(bucket, {}).items():
                total[entry_id] += count * weight  # type: ignore[assignment]
        return [(entry_id, float(score)) for entry_id, score in total.most_common(limit)]


class RedisHotCounter(HotCounter):
    def __init__(
        self,
        config: HotConfig,
        redis: Redis,
        prefix: str = "gateway:hot:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(config, clock)
        self.redis = redis
        self.prefix = prefix

    async def record(self, entry_id: str) -> None:
        key = f"{self.prefix}{self.bucket()}"
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zincrby(key, 1, entry_id)
                pipe.expire(key, (self.buckets + 1) * self.bucket_seconds)
                await pipe.execute()
        except Exception as exc:
            log.warning("hot question not counted: %s", exc)

    async def top(self, limit: int) -> list[tuple[str, float]]:
        weights = {f"{self.prefix}{bucket}": weight for bucket, weight in self.weights().items()}
        try:
            summed = await self.redis.zunion(weights, withscores=True)
        except Exception as exc:
            log.warning("hot questions from traffic unavailable: %s", exc)
            return []
        ranked = sorted(summed, key=lambda pair: (-pair[1], pair[0]))[:limit]
        return [(member.decode(), float(score)) for member, score in ranked]


class HotQuestions:
    """The hot list residents see: the entries most answered lately (at most
    ``from_traffic`` of them, each counted at least ``min_count`` times), then the curated
    ones, ``size`` in all."""

    def __init__(self, counter: HotCounter) -> None:
        self.counter = counter
        self.config = counter.config
        self._cached: tuple[float, list[tuple[str, float]]] | None = None

    async def record(self, entry_id: str) -> None:
        await self.counter.record(entry_id)

    async def traffic(self, limit: int = 50, fresh: bool = False) -> list[tuple[str, float]]:
        """Decayed counts, highest first (re-read at most every :data:`REFRESH_SECONDS`)."""
        now = time.monotonic()
        if fresh or self._cached is None or now - self._cached[0] > REFRESH_SECONDS:
            self._cached = (now, await self.counter.top(max(limit, 50)))
        return self._cached[1][:limit]

    async def merged(self, knowledge: KnowledgeBase, fresh: bool = False) -> list[Entry]:
        chosen: dict[str, Entry] = {}
        if self.config.from_traffic:
            for entry_id, count in await self.traffic(fresh=fresh):
                entry = knowledge.by_id.get(entry_id)
                if count < self.config.min_count or len(chosen) >= self.config.from_traffic:
                    break
                if entry is not None:
                    chosen[entry.id] = entry
        for entry in knowledge.hot:
            chosen.setdefault(entry.id, entry)
        return list(chosen.values())[: self.config.size]
