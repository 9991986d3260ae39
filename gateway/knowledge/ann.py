"""Approximate nearest neighbours over a large base's vectors: usearch's HNSW graph.

Brute force over the memory-mapped float16 matrix costs some 3–8 µs a row on this machine
(numpy has no float16 BLAS): fine for a few thousand rows, 333 ms at 100,000. Above
``[knowledge] ann_threshold`` rows the index asks usearch for candidate rows and scores only
those exactly against the matrix, so the similarities the ranking sees are the same numbers
brute force gives; the graph only decides which rows are looked at (docs/knowledge-base.md).

The graph is kept int8-quantised (a quarter of the float32 vectors' size) in a file of
``index_dir`` and opened as a memory-mapped *view*: a start reads no more than its header, and
the workers of a machine share its pages. The kept matrix itself is read row by row
(:class:`Rows`), not mapped.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from usearch.index import Index

log = logging.getLogger("gateway.knowledge")

#: HNSW's edges a node, and the candidate lists kept while adding and searching: chosen on
#: bench/retrieval_scale.py (docs/benchmarks.md): a larger ``expansion_add`` builds slower
#: for little gain once exact rescoring of the candidates follows.
CONNECTIVITY = 16
EXPANSION_ADD = 64
EXPANSION_SEARCH = 128
#: Rows above which the graphs are built and used (``[knowledge] ann_threshold``'s default):
#: brute force over float16 takes 15 ms at 2,000 rows and 40 ms at 5,000 on this shared
#: machine, a graph search of 200 candidates 1.5–2.5 ms at any of these sizes and its build
#: 1.4 s at 2,000 rows (docs/knowledge-base.md).
THRESHOLD = 2_000
#: Rows asked of each graph a question: exactly rescored, then ranked; four times the fused
#: candidates, since an entry has a row per curated translation.
CANDIDATE_ROWS = 200
NO_ROWS = np.zeros(0, np.int64)
#: Rows added to the graph at a time (float32 copies of the float16 rows).
BATCH = 50_000


class Rows:
    """The rows of a kept ``.npy`` matrix, read from the file by position when asked for.

    A graph's index scores a few thousand scattered rows a question. Through a memory map
    each row read maps the file's pages around it (the kernel's fault-around, whatever
    ``madvise`` says): at 1.6 M rows the 4,096 rows of the baseline's sample and 200 questions'
    candidates left 1.2 GB of the 1.2 GB file resident, against 3 MB read this way at 1 ms
    more a question (bench/retrieval_scale.py, docs/benchmarks.md)."""

    def __init__(self, path: Path) -> None:
        mapped = np.load(path, mmap_mode="r")  # only to read the header: shape, type, offset
        self.shape: tuple[int, ...] = mapped.shape
        self.dtype = mapped.dtype
        self._offset = int(mapped.offset)
        self._width = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        del mapped
        with path.open("rb") as file:
            self._descriptor = os.dup(file.fileno())

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, positions: np.ndarray) -> np.ndarray:
        width, offset, descriptor = self._width, self._offset, self._descriptor
        data = b"".join(os.pread(descriptor, width, offset + int(i) * width) for i in positions)
        return np.frombuffer(data, self.dtype).reshape(len(positions), *self.shape[1:])

    def __del__(self) -> None:
        if hasattr(self, "_descriptor"):
            os.close(self._descriptor)


class Ann:
    """The rows ``first`` to ``first + len(graph)`` of a matrix, searchable by meaning."""

    def __init__(self, graph: Index, first: int) -> None:
        self.graph = graph
        self.first = first

    def __len__(self) -> int:
        return len(self.graph)

    @classmethod
    def build(cls, rows: np.ndarray, first: int, progress: bool = False) -> Ann:
        graph = Index(
            ndim=rows.shape[1],
            metric="cos",
            dtype="i8",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(rows), unit="row", desc="ANN graph")
        for start in range(0, len(rows), BATCH):
            chunk = np.asarray(rows[start : start + BATCH], dtype=np.float32)
            # One thread: the graph then comes out the same from the same rows (threads adding
            # at once link rows in a varying order, and a search may miss a row one build in
            # six: tests/gateway/test_persisted_index.py), at a longer build on many cores.
            keys = np.arange(start, start + len(chunk), dtype=np.uint64)
            graph.add(keys, chunk, threads=1)
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        return cls(graph, first)

    def save(self, path: Path) -> None:
        self.graph.save(str(path))

    @classmethod
    def view(cls, path: Path, first: int, rows: int) -> Ann:
        """The graph saved at ``path``, memory-mapped; ValueError when it is not one of
        ``rows`` rows (a truncated or foreign file)."""
        graph = Index.restore(str(path), view=True)
        if graph is None or len(graph) != rows:
            found = "no index" if graph is None else f"{len(graph)} rows"
            raise ValueError(f"{path}: {found}, {rows} expected")
        graph.expansion_search = EXPANSION_SEARCH
        return cls(graph, first)

    def search(self, query: np.ndarray, count: int) -> np.ndarray:
        """The matrix rows (absolute positions) of the ``count`` nearest, nearest first."""
        if not len(self.graph):
            return np.zeros(0, np.int64)
        # One thread: a single question gains nothing from more.
        found = self.graph.search(np.asarray(query, dtype=np.float32), count, threads=1)
        return found.keys[: len(found)].astype(np.int64) + self.first
