"""Translations already made, so a popular answer is translated once, not once per resident.

Keys name the engine, the language pair and a digest of the text, so the same store can be
shared by several gateway workers: ``TranslationCache`` is the interface, ``MemoryCache`` the
in-process implementation, ``RedisCache`` the one every worker shares (``[redis] url``).
"""

from __future__ import annotations

import hashlib
import logging
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from cachetools import LRUCache

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("gateway.translation")


def cache_key(engine: str, source: str, target: str, text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return f"translation:{engine}:{source}:{target}:{digest}"


class TranslationCache(ABC):
    @abstractmethod
    async def get(self, key: str) -> str | None:
        """The stored translation, or None."""

    @abstractmethod
    async def set(self, key: str, translation: str) -> None: ...


class MemoryCache(TranslationCache):
    """The ``size`` most recently used translations of this process."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: LRUCache[str, str] | None = LRUCache(size) if size > 0 else None

    def __len__(self) -> int:
        return len(self._items) if self._items is not None else 0

    async def get(self, key: str) -> str | None:
        return self._items.get(key) if self._items is not None else None

    async def set(self, key: str, translation: str) -> None:
        if self._items is not None:
            self._items[key] = translation


class RedisCache(TranslationCache):
    """Translations in Redis for ``ttl`` seconds, shared by every worker. A Redis failure is a
    cache miss: the text is translated again rather than the resident kept waiting."""

    def __init__(self, redis: Redis, prefix: str = "gateway:", ttl: float = 7 * 24 * 3600) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = max(1, round(ttl))

    async def get(self, key: str) -> str | None:
        try:
            value = await self.redis.get(self.prefix + key)
        except Exception as exc:
            log.warning("translation cache unavailable: %s", exc)
            return None
        return value.decode("utf-8") if value is not None else None

    async def set(self, key: str, translation: str) -> None:
        try:
            await self.redis.set(self.prefix + key, translation.encode("utf-8"), ex=self.ttl)
        except Exception as exc:
            log.warning("translation cache unavailable: %s", exc)
