"""What the gateway's parts share: the settings, the knowledge base and its index, and — when
``[redis] url`` is set — the one Redis client through which every worker shares state.

The knowledge base can be read again while the gateway runs (:meth:`Services.reload`): the new
indexes are built beside the old ones and swapped in, so questions being answered meanwhile
finish with the old ones. With Redis, a reload on one worker bumps a shared generation number
that every other worker checks every ``[knowledge] reload_check`` seconds and follows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread
from cachetools import FIFOCache

from gateway.config import KnowledgeConfig, Settings
from gateway.knowledge import embedding, entries, persist
from gateway.knowledge.embedding import Embedder
from gateway.knowledge.entries import KnowledgeBase
from gateway.knowledge.index import FaqIndex

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("gateway.services")


@dataclass(frozen=True, slots=True)
class Reload:
    """What the last reload of the gateway's knowledge base did (the admin page's sources)."""

    at: dt.datetime
    #: Files added, changed or removed since the index before it (none: nothing was rebuilt).
    changed: list[str] = field(default_factory=list)
    #: Why the base could not be read; the old index stayed in place.
    problems: list[str] = field(default_factory=list)


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._indexes: dict[tuple[str, ...], FaqIndex] = {}
        #: How many times the knowledge base was reloaded in this process; parts that keep
        #: something built from it (curated translations, back ends) rebuild when it changes.
        self.generation = 0
        self._shared_generation: int | None = None
        self._reloading = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._on_reload: list[Callable[[KnowledgeBase], Awaitable[None]]] = []
        self.last_reload: Reload | None = None
        #: The files of the gateway's own base as its index in use read them.
        self._files_read: dict[str, tuple[int, int]] = {}
        self.redis: Redis | None = None
        if settings.redis.url:
            from redis.asyncio import Redis

            config = settings.redis
            self.redis = Redis.from_url(
                config.url,
                socket_timeout=config.timeout,
                socket_connect_timeout=config.timeout,
                health_check_interval=30,
            )

    def key(self, *parts: str) -> str:
        """A Redis key in this gateway's namespace (``[redis] prefix``)."""
        return self.settings.redis.prefix + ":".join(parts)

    @property
    def knowledge_paths(self) -> tuple[str, ...]:
        """The gateway's own knowledge base: configured, or the bundled sample."""
        paths = self.settings.knowledge.paths or [str(entries.bundled_sample())]
        return tuple(str(Path(path).expanduser()) for path in paths)

    async def index(self, paths: Sequence[str] | None = None) -> FaqIndex:
        """The retrieval index of a knowledge base (the gateway's own by default), built once."""
        key = tuple(paths) if paths else self.knowledge_paths
        if key not in self._indexes:
            files = _files(key) if key == self.knowledge_paths else {}
            self._indexes[key] = await _build(key, self.settings.knowledge)
            if files:
                self._files_read = files
        return self._indexes[key]

    async def knowledge(self) -> KnowledgeBase:
        return (await self.index()).knowledge

    # -- reloading ---------------------------------------------------------------------------

    def on_reload(self, learn: Callable[[KnowledgeBase], Awaitable[None]]) -> None:
        """Call ``learn`` with the gateway's knowledge base after every reload."""
        self._on_reload.append(learn)

    async def reload(self, broadcast: bool = True) -> KnowledgeBase:
        """Read every knowledge base in use again and swap the new indexes in. A base that
        cannot be read raises ``KnowledgeBaseError`` and leaves the old indexes in place."""
        async with self._reloading:
            keys = list(self._indexes) or [self.knowledge_paths]
            files = _files(self.knowledge_paths)
            try:
                built = {key: await _build(key, self.settings.knowledge) for key in keys}
            except entries.KnowledgeBaseError as exc:
                self.last_reload = Reload(_now(), problems=exc.problems)
                raise
            self._indexes.update(built)
            self.generation += 1
            before, self._files_read = self._files_read, files
            changed = sorted(
                file for file in before.keys() | files.keys() if before.get(file) != files.get(file)
            )
            self.last_reload = Reload(_now(), changed)
        if broadcast and self.redis is not None:
            try:
                self._shared_generation = await self.redis.incr(self.key("knowledge", "generation"))
            except Exception:
                log.exception("could not tell the other workers about the reload")
        knowledge = await self.knowledge()
        for learn in self._on_reload:
            await learn(knowledge)
        log.info("knowledge base reloaded: %d entries", len(knowledge.entries))
        return knowledge

    async def startup(self) -> None:
        await self.index()
        if self.redis is not None and self._watcher is None:
            self._shared_generation = await self._read_generation()
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def aclose(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
            self._watcher = None
        if self.redis is not None:
            await self.redis.aclose()

    async def _read_generation(self) -> int | None:
        assert self.redis is not None
        try:
            value = await self.redis.get(self.key("knowledge", "generation"))
        except Exception:
            log.warning("could not read the knowledge base's generation from Redis")
            return self._shared_generation
        return int(value) if value is not None else 0

    async def _watch(self) -> None:
        """Follow reloads made by other workers."""
        while True:
            await asyncio.sleep(self.settings.knowledge.reload_check)
            shared = await self._read_generation()
            if shared is None or shared == self._shared_generation:
                continue
            try:
                await self.reload(broadcast=False)
            except Exception:
                log.exception("could not follow another worker's knowledge-base reload")
            self._shared_generation = shared


#: Indexes built in this process, by paths, the files' sizes and times and the embedder:
#: gateways created in one process over the same unchanged files (tests, workers in threads)
#: share one index, and a reload rebuilds only when a file changed. (Across processes the
#: vectors are shared through ``[knowledge] index_dir``: gateway/knowledge/vectors.py.)
_BUILT: FIFOCache[tuple[object, ...], FaqIndex] = FIFOCache(maxsize=4)
_EMBEDDERS: dict[str, Embedder | None] = {}


def embedder_for(config: KnowledgeConfig) -> Embedder | None:
    """The configured embedder, one per process and configuration (a model loaded once)."""
    key = json.dumps([config.embedder, config.embedder_options], sort_keys=True)
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = embedding.create(config)
    return _EMBEDDERS[key]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _files(paths: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file under ``paths`` (subfolders included), by name."""
    return {name: (size, mtime) for name, size, mtime in persist.signature(paths)}


def build_index(paths: Sequence[str], config: KnowledgeConfig, progress: bool = False) -> FaqIndex:
    """The index of the base at ``paths``, opened from ``[knowledge] index_dir`` when it was
    built from the files as they are, else built there (gateway/knowledge/persist.py)."""
    embedder = embedder_for(config)
    files = json.dumps(persist.signature(paths))
    key = (tuple(paths), files, config.model_dump_json(exclude={"paths"}))
    if key not in _BUILT:
        _BUILT[key] = persist.open_index(paths, config, embedder, progress)
    return _BUILT[key]


async def _build(paths: tuple[str, ...], config: KnowledgeConfig) -> FaqIndex:
    return await anyio.to_thread.run_sync(build_index, paths, config)
