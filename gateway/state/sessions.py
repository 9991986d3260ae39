"""Conversations: the last turns of each session and the ids back ends gave it.

:class:`SessionStore` is the interface; :class:`MemorySessionStore` keeps conversations in this
process (a worker restart forgets them). Other stores (Redis, shared by every worker) are
entry points of the ``gateway.sessions`` group, chosen by ``[sessions] store``. Everything kept
here is already masked (gateway/safety/pii.py).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gateway import extensions
from gateway.backends.base import Turn
from gateway.config import ConfigError, SessionsConfig

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


def create(config: SessionsConfig) -> SessionStore:
    try:
        cls = extensions.load(GROUP, config.store)
    except extensions.UnknownExtension as exc:
        raise ConfigError(str(exc)) from exc
    if not (isinstance(cls, type) and issubclass(cls, SessionStore)):
        raise ConfigError(f"{GROUP} entry {config.store!r} is not a SessionStore subclass")
    return cls(config)
