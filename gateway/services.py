"""What the gateway's parts share: the settings, the knowledge base and its index."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread

from gateway.config import Settings
from gateway.knowledge import entries
from gateway.knowledge.entries import KnowledgeBase
from gateway.knowledge.index import FaqIndex

#: Indexes built in this process, by paths and the files' sizes and times: gateways created
#: in one process over the same unchanged files (tests, workers in threads) share one index.
_BUILT: dict[tuple[object, ...], FaqIndex] = {}
_BUILT_KEPT = 4


def _signature(paths: Sequence[str]) -> tuple[object, ...]:
    files = []
    for path in map(Path, paths):
        for file in sorted(path.glob("*")) if path.is_dir() else [path]:
            if file.is_file():
                stat = file.stat()
                files.append((str(file), stat.st_size, stat.st_mtime_ns))
    return (tuple(paths), tuple(files))


def _build(paths: tuple[str, ...]) -> FaqIndex:
    key = _signature(paths)
    if key not in _BUILT:
        while len(_BUILT) >= _BUILT_KEPT:
            _BUILT.pop(next(iter(_BUILT)))
        _BUILT[key] = FaqIndex(entries.load(paths))
    return _BUILT[key]


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
            self._indexes[key] = await anyio.to_thread.run_sync(_build, key)
        return self._indexes[key]

    async def knowledge(self) -> KnowledgeBase:
        return (await self.index()).knowledge
