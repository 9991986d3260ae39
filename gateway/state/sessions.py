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
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway import extensions
from gateway.backends.base import Turn
from gateway.config import ConfigError, SessionsConfig, Settings

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


class SessionStore(ABC):
    def __init__(self, config: SessionsConfig) -> None:
        self.config = config

    @classmethod
    def from_settings(cls, settings: Settings, services: Services) -> SessionStore:
        """The store as configured; a store that needs more than ``[sessions]`` overrides it."""
        return cls(settings.sessions)

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
        self._clock = clock
        self._conversations: OrderedDict[str, tuple[float, Conversation]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._conversations)

    async def load(self, session_id: str) -> Conversation:
        kept = self._conversations.get(session_id)
        if kept is None or self._clock() - kept[0] > self.config.ttl:
            return Conversation(session_id)
        conversation = kept[1]
        return Conversation(session_id, list(conversation.turns), dict(conversation.backend_ids))

    async def append(
        self, session_id: str, turns: Sequence[Turn], backend: str = "", backend_id: str = ""
    ) -> None:
        now = self._clock()
        kept = self._conversations.pop(session_id, None)
        conversation = kept[1] if kept and now - kept[0] <= self.config.ttl else None
        conversation = conversation or Conversation(session_id)
        conversation.turns.extend(turns)
        limit = 2 * self.config.max_turns
        del conversation.turns[: max(0, len(conversation.turns) - limit)]
        if backend and backend_id:
            conversation.backend_ids[backend] = backend_id
        self._conversations[session_id] = (now, conversation)
        while len(self._conversations) > self.config.max_sessions:
            self._conversations.popitem(last=False)
        self._expire(now)

    def _expire(self, now: float) -> None:
        # The oldest entries come first, so stop at the first one still fresh.
        while self._conversations:
            touched, _ = next(iter(self._conversations.values()))
            if now - touched <= self.config.ttl:
                break
            self._conversations.popitem(last=False)


class RedisSessionStore(SessionStore):
    """Conversations in Redis, shared by every worker: a list of turns and a hash of back-end
    conversation ids per session, both expiring ``ttl`` seconds after the last exchange.
    An exchange is written in one transaction, so two workers never interleave its turns."""

    def __init__(self, config: SessionsConfig, redis: Redis, prefix: str = "gateway:") -> None:
        super().__init__(config)
        self.redis = redis
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings, services: Services) -> SessionStore:
        if services.redis is None:
            raise ConfigError('sessions.store = "redis" needs [redis] url')
        return cls(settings.sessions, services.redis, services.key("session", ""))

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


def store_name(settings: Settings) -> str:
    """``[sessions] store``, or the default for the deployment: Redis when it is configured."""
    return settings.sessions.store or ("redis" if settings.redis.url else "memory")


def create(settings: Settings, services: Services) -> SessionStore:
    name = store_name(settings)
    try:
        cls = extensions.load(GROUP, name)
    except extensions.UnknownExtension as exc:
        raise ConfigError(str(exc)) from exc
    if not (isinstance(cls, type) and issubclass(cls, SessionStore)):
        raise ConfigError(f"{GROUP} entry {name!r} is not a SessionStore subclass")
    return cls.from_settings(settings, services)
