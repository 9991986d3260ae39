"""The whole retrieval index kept in ``[knowledge] index_dir``, so a gateway starts from it in
seconds: what ``gateway kb build`` writes and what the gateway opens at start.

One folder per base (its paths, the embedder, the reading options), under ``bases/``::

    bases/<key>/CURRENT              the name of the build in use
    bases/<key>/build-<time>-<pid>/  manifest.json (the files' sizes and times it was built
                                     from, the counts), entries.bin + .offsets.npy + .ids
                                     (one pickled row an entry, decoded when asked),
                                     passages.bin + .offsets.npy, knowledge.pkl (manifests and
                                     source reports), questions/ and answers/ (bm25s's own
                                     format, memory-mapped), vectors.npy + starts.npy (the
                                     dense rows, memory-mapped), entries.usearch and
                                     passages.usearch (the ANN graphs, memory-mapped views)
    files/<key>.pkl                  what reading one file gave, by its path, size, time and
                                     the reading options

A build is written into a ``.partial-…`` folder and renamed into place, then ``CURRENT`` is
replaced: a crash leaves the previous build in use and never a half-written one. What a
changed file costs: unchanged files are not read again (``files/``) and unchanged texts are
not embedded again (gateway/knowledge/vectors.py); the BM25 fields, the packed entries, the
matrix and the ANN graphs are rebuilt whole from them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import mmap
import os
import pickle
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np

from gateway.knowledge import ann, entries, readers
from gateway.knowledge.documents import Passage
from gateway.knowledge.embedding import Embedder
from gateway.knowledge.entries import Entry, KnowledgeBase, Source, Translation
from gateway.knowledge.index import FaqIndex, Parts, _Field, build_parts

if TYPE_CHECKING:
    from gateway.config import KnowledgeConfig

log = logging.getLogger("gateway.knowledge")

#: Bumped whenever what is written changes: an index of another format is rebuilt.
FORMAT = 1
T = TypeVar("T")


def signature(paths: Sequence[str]) -> list[list[object]]:
    """Every file under ``paths`` (subfolders included) with its size and modification time."""
    files: list[list[object]] = []
    for path in map(Path, paths):
        found = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in found:
            if file.exists():
                stat = file.stat()
                files.append([str(file), stat.st_size, stat.st_mtime_ns])
    return files


def open_index(
    paths: Sequence[str],
    config: KnowledgeConfig,
    embedder: Embedder | None,
    progress: bool = False,
) -> FaqIndex:
    """The index of the base at ``paths``: opened from ``index_dir`` when it was built from the
    files as they are now, else built (only changed files read again) and kept there."""
    home = Path(config.index_dir).expanduser()
    folder = home / "bases" / _key(paths, config, embedder)
    files = signature(paths)
    current = _current(folder)
    if current is not None:
        try:
            return open_build(current, files, embedder, config.ann_threshold)
        except _Stale as exc:
            log.info("knowledge index %s: %s; rebuilding what changed", current, exc)
        except Exception as exc:  # any damage to a file means: build again
            log.warning("knowledge index %s is unusable (%s: %s); rebuilding", current,
                        type(exc).__name__, exc)  # fmt: skip
    cache = _FileCache(home / "files", paths)
    knowledge = entries.load(paths, config, read=cache.read)
    parts = build_parts(knowledge, embedder, config.index_dir, progress, config.ann_threshold)
    try:
        built = write_build(folder, files, knowledge, parts, embedder)
    except OSError as exc:
        log.warning("could not keep the knowledge index in %s (%s); using it from memory",
                    folder, exc)  # fmt: skip
        return FaqIndex.from_parts(knowledge, embedder, parts)
    del knowledge, parts
    return open_build(built, files, embedder, config.ann_threshold)


class _Stale(Exception):
    """The index was built from other files, or by another version."""


def _key(paths: Sequence[str], config: KnowledgeConfig, embedder: Embedder | None) -> str:
    identity = embedder.identity if embedder is not None else "none"
    described = [list(paths), identity, config.max_file_bytes, config.passage_chars]
    return hashlib.sha1(json.dumps(described).encode()).hexdigest()[:16]


def _current(folder: Path) -> Path | None:
    try:
        name = (folder / "CURRENT").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return folder / name


# -- writing -------------------------------------------------------------------------------


def write_build(
    folder: Path,
    files: list[list[object]],
    knowledge: KnowledgeBase,
    parts: Parts,
    embedder: Embedder | None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"build-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    partial = folder / f".partial-{name}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    _pack(partial / "entries", knowledge.entries, _entry_row)
    (partial / "entries.ids").write_text(
        "\n".join(entry.id for entry in knowledge.entries), encoding="utf-8"
    )
    _pack(partial / "passages", knowledge.passages, _passage_row)
    with (partial / "knowledge.pkl").open("wb") as out:
        pickle.dump((knowledge.manifests, knowledge.sources), out, protocol=5)
    parts.questions.save(partial / "questions")
    parts.answers.save(partial / "answers")
    if parts.matrix is not None and parts.starts is not None:
        _link_or_copy(Path(parts.matrix.filename), partial / "vectors.npy")  # type: ignore[attr-defined]
        np.save(partial / "starts.npy", parts.starts)
    if parts.graphs is not None:
        parts.graphs[0].save(partial / "entries.usearch")
        parts.graphs[1].save(partial / "passages.usearch")
    manifest = {
        "format": FORMAT,
        "files": files,
        "entries": len(knowledge.entries),
        "passages": len(knowledge.passages),
        "rows": 0 if parts.matrix is None else len(parts.matrix),
        "ann": parts.graphs is not None,
        "embedder": embedder.identity if embedder is not None else "none",
        "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    # The manifest last: a folder without one was never finished.
    (partial / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    built = folder / name
    partial.rename(built)
    pointer = folder / f".CURRENT.{os.getpid()}"
    pointer.write_text(name + "\n", encoding="utf-8")
    pointer.replace(folder / "CURRENT")
    for old in folder.glob("build-*"):
        # Gateways still running on an old build keep its memory-mapped files open.
        if old != built:
            shutil.rmtree(old, ignore_errors=True)
    log.info("knowledge index kept in %s", built)
    return built


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _pack(stem: Path, items: Sequence[Any], row: Any) -> None:
    offsets = [0]
    with stem.with_suffix(".bin").open("wb") as out:
        for item in items:
            offsets.append(offsets[-1] + out.write(pickle.dumps(row(item), protocol=5)))
    np.save(stem.with_suffix(".offsets.npy"), np.asarray(offsets, np.int64))


# Rows are plain tuples, dates as text: unpickling a pydantic dataclass costs five times more.
def _entry_row(entry: Entry) -> tuple[Any, ...]:
    translations = [(k, t.question, t.answer, t.source_title) for k, t in
                    entry.translations.items()]  # fmt: skip
    return (entry.id, entry.category, entry.question, entry.answer, entry.source.title,
            entry.source.url, entry.updated.isoformat(), entry.phrasings, translations)  # fmt: skip


def _entry(row: tuple[Any, ...]) -> Entry:
    id_, category, question, answer, title, url, updated, phrasings, translations = row
    return _revive(
        Entry, id_, category, question, answer, _revive(Source, title, url),
        dt.date.fromisoformat(updated), phrasings,
        {k: _revive(Translation, q, a, s) for k, q, a, s in translations},
    )  # fmt: skip


def _passage_row(passage: Passage) -> tuple[Any, ...]:
    updated = passage.updated.isoformat() if passage.updated else None
    return (passage.id, passage.text, passage.title, passage.section, passage.url, updated,
            passage.file, passage.category)  # fmt: skip


def _passage(row: tuple[Any, ...]) -> Passage:
    updated = dt.date.fromisoformat(row[5]) if row[5] else None
    return Passage(*row[:5], updated, *row[6:])  # type: ignore[misc]


_FIELDS: dict[type, list[str]] = {}


def _revive(cls: type[T], *values: Any) -> T:
    """A frozen dataclass from values it was validated with when built: no validation again."""
    names = _FIELDS.setdefault(cls, [f.name for f in fields(cls)])  # type: ignore[arg-type]
    item = object.__new__(cls)
    for name, value in zip(names, values, strict=True):
        object.__setattr__(item, name, value)
    return item


# -- reading -------------------------------------------------------------------------------


class Packed(Sequence[T]):
    """Rows written by :func:`_pack`, memory-mapped, each decoded when asked for."""

    def __init__(self, stem: Path, decode: Any, count: int) -> None:
        self.offsets = np.load(stem.with_suffix(".offsets.npy"), mmap_mode="r")
        size = stem.with_suffix(".bin").stat().st_size
        if len(self.offsets) != count + 1 or int(self.offsets[-1]) != size:
            raise ValueError(f"{stem}.bin: {size} bytes, not the {count} rows its offsets name")
        self.stem = stem
        self.decode = decode
        self.blob: mmap.mmap | bytes = b""
        if size:
            with stem.with_suffix(".bin").open("rb") as file:
                self.blob = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        start, end = int(self.offsets[index]), int(self.offsets[index + 1])
        return self.decode(pickle.loads(self.blob[start:end]))

    def __iter__(self) -> Iterator[T]:
        for index in range(len(self)):
            yield self[index]


class PackedEntries(Packed[Entry]):
    @cached_property
    def positions(self) -> dict[str, int]:
        ids = self.stem.with_suffix(".ids").read_text(encoding="utf-8")
        return {id_: n for n, id_ in enumerate(ids.split("\n"))} if ids else {}


def open_build(
    folder: Path, files: list[list[object]], embedder: Embedder | None, ann_threshold: int
) -> FaqIndex:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise _Stale(f"format {manifest.get('format')}, not {FORMAT}")
    if manifest["files"] != files:
        raise _Stale("files changed since it was built")
    count = manifest["entries"]
    entries_ = PackedEntries(folder / "entries", _entry, count)
    passages = Packed(folder / "passages", _passage, manifest["passages"])
    with (folder / "knowledge.pkl").open("rb") as file:
        manifests, sources = pickle.load(file)
    questions = _Field.load(folder / "questions", count)
    answers = _Field.load(folder / "answers", count)
    knowledge = KnowledgeBase(entries_, manifests, passages, sources)
    if embedder is None:
        return FaqIndex.from_parts(knowledge, None, Parts(questions, answers))
    matrix: np.ndarray | ann.Rows = np.load(folder / "vectors.npy", mmap_mode="r")
    starts = np.load(folder / "starts.npy")
    rows = manifest["rows"]
    if len(matrix) != rows or len(starts) != count + 1 or rows - starts[-1] != len(passages):
        raise ValueError(f"{folder}: vectors of {len(matrix)} rows do not fit its texts")
    if manifest["ann"] != (rows > ann_threshold):
        raise _Stale(f"built {'with' if manifest['ann'] else 'without'} an ANN graph, "
                     f"which ann_threshold {ann_threshold} changes")  # fmt: skip
    graphs = None
    if manifest["ann"]:
        # Only scattered rows are read through the graphs: by position, not mapped (ann.Rows).
        matrix = ann.Rows(folder / "vectors.npy")
        first = int(starts[-1])
        graphs = (
            ann.Ann.view(folder / "entries.usearch", 0, first),
            ann.Ann.view(folder / "passages.usearch", first, rows - first),
        )
    return FaqIndex.from_parts(
        knowledge, embedder, Parts(questions, answers, matrix, starts, graphs)
    )


class _FileCache:
    """What reading each file gave, kept by its path, size, time, the reading options and the
    ``sources.csv`` files (which give documents their titles and URLs)."""

    def __init__(self, folder: Path, paths: Sequence[str]) -> None:
        self.folder = folder
        listings = [f for f in signature(paths) if Path(str(f[0])).name == readers.SOURCES_FILE]
        self.context = json.dumps([FORMAT, listings])

    def read(self, file: Path, options: readers.ReadOptions) -> readers.FileRead:
        stat = file.stat() if file.exists() else None
        described = [str(file), stat and (stat.st_size, stat.st_mtime_ns), repr(options)]
        key = hashlib.sha1((self.context + json.dumps(described)).encode()).hexdigest()
        kept = self.folder / f"{key}.pkl"
        try:
            with kept.open("rb") as cached:
                report, places, rows, passage_rows = pickle.load(cached)
            return readers.FileRead(
                [_entry(row) for row in rows], places, [_passage(row) for row in passage_rows],
                report,
            )  # fmt: skip
        except FileNotFoundError:
            pass
        except Exception as exc:  # a damaged copy: read the file again
            log.warning("%s: kept reading of %s unusable (%s); reading it again", kept, file, exc)
        read = readers.read_file(file, options)
        if stat is not None:
            self._keep(kept, read)
        return read

    def _keep(self, kept: Path, read: readers.FileRead) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = kept.with_name(f".{kept.name}.{os.getpid()}")
            record = (read.report, read.places, [_entry_row(e) for e in read.entries],
                      [_passage_row(p) for p in read.passages])  # fmt: skip
            with partial.open("wb") as out:
                pickle.dump(record, out, protocol=5)
            partial.replace(kept)
        except OSError as exc:
            log.warning("could not keep the reading of a file in %s (%s)", self.folder, exc)
