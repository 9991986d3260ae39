"""Conversations: the last turns of each session and the ids back ends gave it.

:class:`SessionStore` is the interface; :class:`MemorySessionStore` keeps conversations in this
process (a worker restart forgets them), :class:`RedisSessionStore` in Redis, shared by every
worker. Others are entry points of the ``gateway.sessions`` group, chosen by ``[sessions]
store``. Everything kept here is already masked (gateway/safety/pii.py).
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from cachetools import TTLCache

from gateway import extensions
from gateway.backends.base import Turn
from gateway.config import ConfigError, SessionsConfig, Settings
from gateway.extensions import Extension
from gateway.state import shared

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from gateway.services import Services

GROUP = "gateway.sessions"


@dataclass(slots=True)
class Conversation:
    session_id: str
    #: Earlier turns, oldest first, at most ``2 × max_turns`` of them.
    turns: list[Turn] = field(default_factory=list)
    #: Each back end's own conversation id (Dify, FastGPT, MaxKB), by back-end name.
    backend_ids: dict[str, str] = field(default_factory=dict)


class SessionStore(Extension, ABC):
    """Built by ``extensions.create`` from ``[sessions]``; a store that needs more than that
    (a client) overrides :meth:`build`."""

    Options = SessionsConfig

    def __init__(self, config: SessionsConfig) -> None:
        self.config = config

    @abstractmethod
    async def load(self, session_id: str) -> Conversation:
        """The conversation so far; an empty one for a new or forgotten session."""

    @abstractmethod
    async def append(
        self, session_id: str, turns: Sequence[Turn], backend: str = "", backend_id: str = ""
    ) -> None:
        """Add ``turns``, keeping the last ``max_turns`` pairs, and remember ``backend_id`` as
        ``backend``'s conversation id (when given)."""

    async def aclose(self) -> None:
        """Release connections."""


class MemorySessionStore(SessionStore):
    """Conversations in this process: least recently used first out, idle ones expire."""

    def __init__(self, config: SessionsConfig, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(config)
        # Each exchange sets its conversation again, so the time to live counts from the last.
        self._conversations: TTLCache[str, Conversation] = TTLCache(
            maxsize=config.max_sessions, ttl=config.ttl, timer=clock
        )

    def __len__(self) -> int:
        self._conversations.expire()
        return len(self._conversations)

    async def load(self, session_id: str) -> Conversation:
        conversation = self._conversations.get(session_id)
        if conversation is None:
            return Conversation(session_id)
        return Conversation(session_id, list(conversation.turns), dict(conversation.backend_ids))

    async def append(
        self, session_id: str, turns: Sequence[Turn], backend: str = "", backend_id: str = ""
    ) -> None:
        conversation = self._conversations.get(session_id) or Conversation(session_id)
        conversation.turns.extend(turns)
        limit = 2 * self.config.max_turns
        del conversation.turns[: max(0, len(conversation.turns) - limit)]
        if backend and backend_id:
            conversation.backend_ids[backend] = backend_id
        self._conversations[session_id] = conversation


class RedisSessionStore(SessionStore):
    """Conversations in Redis, shared by every worker: a list of turns and a hash of back-end
    conversation ids per session, both expiring ``ttl`` seconds after the last exchange.
    An exchange is written in one transaction, so two workers never interleave its turns."""

    def __init__(self, config: SessionsConfig, redis: Redis, prefix: str = "gateway:") -> None:
        super().__init__(config)
        self.redis = redis
        self.prefix = prefix

    @classmethod
    def build(cls, options: Any, services: Services | None, **context: Any) -> Self:
        if services is None or services.redis is None:
            raise ConfigError('sessions.store = "redis" needs [redis] url')
        return cls(options, services.redis, services.key("session", ""))

    def _keys(self, session_id: str) -> tuple[str, str]:
        return f"{self.prefix}{session_id}:turns", f"{self.prefix}{session_id}:ids"

    async def load(self, session_id: str) -> Conversation:
        turns_key, ids_key = self._keys(session_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.lrange(turns_key, 0, -1)
            pipe.hgetall(ids_key)
            turns, ids = await pipe.execute()
        return Conversation(
            session_id,
            [Turn(**json.loads(turn)) for turn in turns],
            {name.decode(): value.decode() for name, value in ids.items()},
        )

    async def append(
        self, session_id: str, turns: Sequence[Turn], backend: str = "", backend_id: str = ""
    ) -> None:
        turns_key, ids_key = self._keys(session_id)
        ttl = max(1, round(self.config.ttl))
        async with self.redis.pipeline(transaction=True) as pipe:
            if turns:
                pipe.rpush(
                    turns_key,
                    *(
                        json.dumps({"role": t.role, "content": t.content}, ensure_ascii=False)
                        for t in turns
                    ),
                )
            pipe.ltrim(turns_key, -2 * self.config.max_turns, -1)
            if self.config.max_turns == 0:
                pipe.delete(turns_key)
            if backend and backend_id:
                pipe.hset(ids_key, backend, backend_id)
            pipe.expire(turns_key, ttl)
            pipe.expire(ids_key, ttl)
            await pipe.execute()


def create(settings: Settings, services: Services) -> SessionStore:
    """The configured store (``[sessions] store``; by default as gateway/state/shared.py
    decides)."""
    name = shared.session_store(settings)
    return extensions.create(
        GROUP, name, SessionStore, settings.sessions.model_dump(), services, label="sessions"
    )
