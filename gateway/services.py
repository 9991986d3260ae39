"""What the gateway's parts share: the settings, the knowledge base and its index."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread

from gateway.config import Settings
from gateway.knowledge import entries
from gateway.knowledge.entries import KnowledgeBase
from gateway.knowledge.index import FaqIndex


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._indexes: dict[tuple[str, ...], FaqIndex] = {}

    @property
    def knowledge_paths(self) -> tuple[str, ...]:
        """The gateway's own knowledge base: configured, or the bundled sample."""
        paths = self.settings.knowledge.paths or [str(entries.bundled_sample())]
        return tuple(str(Path(path).expanduser()) for path in paths)

    async def index(self, paths: Sequence[str] | None = None) -> FaqIndex:
        """The retrieval index of a knowledge base (the gateway's own by default), built once."""
        key = tuple(paths) if paths else self.knowledge_paths
        if key not in self._indexes:
            knowledge = await anyio.to_thread.run_sync(entries.load, key)
            self._indexes[key] = await anyio.to_thread.run_sync(FaqIndex, knowledge)
        return self._indexes[key]

    async def knowledge(self) -> KnowledgeBase:
        return (await self.index()).knowledge
