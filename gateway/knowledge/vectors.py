"""Dense vectors of a knowledge base's texts, built once and kept in ``[knowledge] index_dir``.

Vectors are stored by the SHA-1 of the text they embed, under the embedder's identity:
a rebuild embeds only texts it has not seen (a changed file's new rows), and the many gateways
a test run or a set of workers creates over one base embed it once. The matrix is written as a
``.npy`` file and read memory-mapped, so workers on one machine share its pages and start
without reading it whole.

Layout: ``<index_dir>/<embedder identity hash>/store-<n>.npy`` (float16 rows) and
``store-<n>.keys`` (20-byte SHA-1 per row); ``base-<content hash>.npy`` (the rows of one base, in
its order). Files are written beside and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gateway.knowledge.embedding import Embedder

log = logging.getLogger("gateway.knowledge")

#: Texts embedded between two saves of the store during a build: an interrupted build keeps
#: what it embedded.
CHUNK = 2048


def _digest(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


def _folder(index_dir: str | Path, embedder: Embedder) -> Path:
    name = hashlib.sha1(embedder.identity.encode()).hexdigest()[:16]
    folder = Path(index_dir).expanduser() / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "embedder.txt").write_text(embedder.identity + "\n", encoding="utf-8")
    return folder


def _replace(path: Path, array: np.ndarray) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    with partial.open("wb") as out:
        np.save(out, array)
    partial.replace(path)


class _Store:
    """Every vector the embedder made for this index_dir, by text digest."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows = self._load()

    def _load(self) -> dict[bytes, np.ndarray]:
        rows: dict[bytes, np.ndarray] = {}
        for keys_file in sorted(self.folder.glob("store-*.keys.npy")):
            vectors_file = keys_file.with_name(keys_file.name.replace(".keys.npy", ".npy"))
            if not vectors_file.exists():
                continue
            keys = np.load(keys_file)
            vectors = np.load(vectors_file, mmap_mode="r")
            if len(keys) != len(vectors):
                log.warning("%s: keys and vectors differ in number; ignored", vectors_file)
                continue
            rows.update({bytes(key): vectors[n] for n, key in enumerate(keys)})
        return rows

    def add(self, digests: Sequence[bytes], vectors: np.ndarray) -> None:
        number = len(list(self.folder.glob("store-*.keys.npy")))
        name = f"store-{number:05d}-{os.getpid()}"
        # Vectors first: a keys file names rows only once they are all there.
        _replace(self.folder / f"{name}.npy", vectors.astype(np.float16))
        _replace(self.folder / f"{name}.keys.npy", np.frombuffer(b"".join(digests), "S20").copy())
        self.rows.update(zip(digests, vectors.astype(np.float16), strict=True))


def build(
    embedder: Embedder,
    texts: Sequence[str],
    index_dir: str | Path,
    progress: bool = False,
) -> np.ndarray:
    """The ``(len(texts), dimensions)`` float16 matrix of ``texts``' passage vectors,
    memory-mapped from ``index_dir``; texts never embedded there before are embedded now."""
    folder = _folder(index_dir, embedder)
    digests = [_digest(text) for text in texts]
    content = hashlib.sha1(b"".join(digests)).hexdigest()[:20]
    path = folder / f"base-{content}.npy"
    if path.exists():
        return np.load(path, mmap_mode="r")
    store = _Store(folder)
    missing = list(dict.fromkeys(d for d in digests if d not in store.rows))
    if missing:
        text_of = dict(zip(digests, texts, strict=True))
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(missing), unit="text", desc="embedding")
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start : start + CHUNK]
            step = 64
            parts = []
            for first in range(0, len(chunk), step):
                parts.append(embedder.passages([text_of[d] for d in chunk[first : first + step]]))
                if bar is not None:
                    bar.update(len(parts[-1]))
            store.add(chunk, np.concatenate(parts))
        if bar is not None:
            bar.close()
        log.info("embedded %d new texts of %d", len(missing), len(texts))
    dimensions = len(next(iter(store.rows.values()))) if store.rows else 0
    matrix = np.empty((len(texts), dimensions), np.float16)
    for n, digest in enumerate(digests):
        matrix[n] = store.rows[digest]
    _replace(path, matrix)
    return np.load(path, mmap_mode="r")
