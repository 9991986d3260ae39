"""The knowledge base: entries (curated questions and answers) and passages (pieces of
documents), read from folders and files, with an optional ``kb.json`` manifest per folder.

A knowledge base is one or more folders or files (docs/knowledge-base.md); each file is read
by its kind (gateway/knowledge/readers/). The curated ``.jsonl`` entries and manifests are the
operator's own writing and are checked strictly: any problem in them stops the base loading,
all of them reported together, each naming the file, the line and the field. Imported content
(FAQ sheets, documents) is what a web team has: a problem in it is reported by file (and row)
in :attr:`KnowledgeBase.sources` and the rest is imported.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass as plain_dataclass
from dataclasses import field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from gateway.knowledge.documents import Passage, SourceReport

if TYPE_CHECKING:
    from gateway.config import KnowledgeConfig
    from gateway.knowledge.readers import FileRead, ReadOptions

log = logging.getLogger("gateway.knowledge")

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
HTTP_URL = re.compile(r"^https?://[^\s<>\"]+$")
#: http(s), or empty for a source that has no page (a FAQ sheet without links).
SourceUrl = Annotated[str, StringConstraints(pattern=r"^(https?://[^\s<>\"]+)?$")]
MAX_REPORTED_PROBLEMS = 50


_STRICT = ConfigDict(extra="forbid")


# Entries are slotted dataclasses, validated by pydantic: a provincial base holds hundreds of
# thousands of them, and a model instance costs several times the memory of its text.
@dataclass(frozen=True, slots=True, config=_STRICT)
class Source:
    title: NonEmpty
    url: SourceUrl


@dataclass(frozen=True, slots=True, config=_STRICT)
class Translation:
    question: NonEmpty
    answer: NonEmpty
    #: The source's title in this language; the Chinese title when absent.
    source_title: str | None = None


@dataclass(frozen=True, slots=True, config=_STRICT)
class Entry:
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    category: NonEmpty
    question: NonEmpty
    #: Markdown.
    answer: NonEmpty
    source: Source
    updated: dt.date
    phrasings: list[NonEmpty] = field(default_factory=list)
    #: Curated translations by locale code (``en``, ``ko`` …).
    translations: dict[str, Translation] = field(default_factory=dict)


ENTRY = TypeAdapter(Entry)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(Model):
    id: NonEmpty
    #: Display names by locale code.
    names: dict[str, str] = Field(default_factory=dict)


class Manifest(Model):
    name: str = ""
    title: dict[str, str] = Field(default_factory=dict)
    #: True for demonstration data: the portal says so.
    sample: bool = False
    notice: dict[str, str] = Field(default_factory=dict)
    source_domain: str = ""
    categories: list[Category] = Field(default_factory=list)
    #: Entry ids of the curated hot questions, most asked first.
    hot: list[str] = Field(default_factory=list)


@plain_dataclass
class KnowledgeBase:
    #: A list, or read back from ``index_dir`` a sequence that decodes an entry when asked
    #: (gateway/knowledge/persist.py), which then also knows each id's position.
    entries: Sequence[Entry]
    manifests: list[Manifest] = field(default_factory=list)
    #: Pieces of the documents, in the order of the files and of each file's text.
    passages: Sequence[Passage] = field(default_factory=list)
    #: What reading each file gave, in the order read, with the problems of imported files.
    sources: list[SourceReport] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._derived: dict[str, Any] = {}

    @cached_property
    def positions(self) -> Mapping[str, int]:
        """Each entry's position in :attr:`entries`, by id."""
        known = getattr(self.entries, "positions", None)
        return known if known is not None else {e.id: n for n, e in enumerate(self.entries)}

    @cached_property
    def by_id(self) -> Mapping[str, Entry]:
        return _ById(self.entries, self.positions)

    def derived(self, name: str, build: Callable[[KnowledgeBase], Any]) -> Any:
        """``build(self)``, built on first use and kept with this base: what the gateway's
        parts learn from the base (the understanding lexicon) is learnt once per base."""
        if name not in self._derived:
            self._derived[name] = build(self)
        return self._derived[name]

    def source_totals(self) -> dict[str, int]:
        """Files, entries, passages and problems in all: what ``gateway kb sources`` and the
        admin page's sources say under the files."""
        return {
            "files": len(self.sources),
            "entries": len(self.entries),
            "passages": len(self.passages),
            "problems": sum(len(report.problems) for report in self.sources),
        }

    @property
    def read_at(self) -> dt.datetime | None:
        """When the files were read: the base's build."""
        return max((r.read_at for r in self.sources if r.read_at), default=None)

    @property
    def sample(self) -> bool:
        return any(manifest.sample for manifest in self.manifests)

    @property
    def hot(self) -> list[Entry]:
        return [self.by_id[i] for m in self.manifests for i in m.hot if i in self.by_id]

    @property
    def categories(self) -> list[Category]:
        return [category for manifest in self.manifests for category in manifest.categories]


class _ById(Mapping[str, Entry]):
    def __init__(self, entries: Sequence[Entry], positions: Mapping[str, int]) -> None:
        self.entries = entries
        self.positions = positions

    def __getitem__(self, key: str) -> Entry:
        return self.entries[self.positions[key]]

    def __contains__(self, key: object) -> bool:
        return key in self.positions

    def __iter__(self) -> Iterator[str]:
        return iter(self.positions)

    def __len__(self) -> int:
        return len(self.positions)


class KnowledgeBaseError(Exception):
    """The knowledge base has problems; ``problems`` lists them as ``file:line: field: what``."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        more = len(problems) - len(shown)
        summary = "\n".join(shown) + (f"\n… and {more} more" if more else "")
        super().__init__(f"{len(problems)} problem(s) in the knowledge base:\n{summary}")
        self.problems = problems


def bundled_sample() -> Path:
    """The sample knowledge base shipped with the package."""
    return Path(str(resources.files("gateway") / "data" / "kb" / "sample"))


def load(
    paths: Iterable[str | Path],
    config: KnowledgeConfig | None = None,
    read: Callable[[Path, ReadOptions], FileRead] | None = None,
) -> KnowledgeBase:
    """Read every file under ``paths`` (folders, read with their subfolders, or files), each
    by ``read`` (:func:`gateway.knowledge.readers.read_file`, or one that keeps what it read).

    Raises :class:`KnowledgeBaseError` for a missing path, a folder with nothing to read, any
    problem in a ``.jsonl`` file or a manifest, and a base with neither entries nor passages;
    problems of sheets and documents are in ``sources`` (and logged as warnings)."""
    from gateway.knowledge import readers

    read_one = read
    options = readers.ReadOptions(
        **({"max_file_bytes": config.max_file_bytes, "passage_chars": config.passage_chars}
           if config else {})
    )  # fmt: skip
    entries: list[Entry] = []
    passages: list[Passage] = []
    manifests: list[Manifest] = []
    sources: list[SourceReport] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    seen_passages: set[str] = set()
    for path in map(Path, paths):
        if not path.exists():
            problems.append(f"{path}: no such file or folder")
            continue
        if path.is_dir():
            manifest_path = path / "kb.json"
            if manifest_path.exists():
                manifest = _load_manifest(manifest_path, problems)
                if manifest is not None:
                    manifests.append(manifest)
            files = readers.files_under(path)
            if not files:
                problems.append(
                    f"{path}: the folder holds no files the knowledge base reads "
                    f"({', '.join(readers.KINDS)})"
                )
            sources.extend(
                readers.read_sources(listing)
                for listing in sorted(path.rglob(readers.SOURCES_FILE))
            )
        else:
            files = [path]
        for file in files:
            read = (read_one or readers.read_file)(file, options)
            sources.append(read.report)
            if read.report.kind == "entries":
                problems.extend(read.report.problems)
            for where, entry in zip(read.places, read.entries, strict=True):
                if entry.id in seen:
                    message = f"{where}: id: {entry.id!r} is already used at {seen[entry.id]}"
                    if read.report.kind == "entries":
                        problems.append(message)
                    else:
                        read.report.problems.append(f"{message}; skipped")
                        read.report.entries -= 1
                    continue
                seen[entry.id] = where
                entries.append(entry)
            for passage in read.passages:
                if passage.id not in seen_passages:
                    seen_passages.add(passage.id)
                    passages.append(passage)
    base = KnowledgeBase(entries, manifests, passages, sources)
    for manifest in manifests:
        problems.extend(
            f"kb.json ({manifest.name}): hot: no entry has the id {entry_id!r}"
            for entry_id in manifest.hot
            if entry_id not in base.by_id
        )
    if problems:
        raise KnowledgeBaseError(problems)
    if not entries and not passages:
        raise KnowledgeBaseError(["the knowledge base has no entries and no passages"])
    for report in sources:
        if report.kind != "entries":
            for problem in report.problems:
                log.warning("knowledge base: %s", problem)
    return base


def read_jsonl(file: Path, data: bytes, problems: list[str]) -> Iterator[tuple[str, Entry]]:
    """The entries of a ``.jsonl`` file with ``file:line`` of each; problems named alike."""
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        problems.append(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return
    for number, line in enumerate(lines, start=1):
        where = f"{file}:{number}"
        if not line.strip():
            continue
        try:
            data_ = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data_, dict):
            problems.append(f"{where}: an entry must be a JSON object")
            continue
        try:
            yield where, ENTRY.validate_python(data_)
        except ValidationError as exc:
            problems.extend(f"{where}: {field_name(err)}: {err['msg']}" for err in exc.errors())


def _load_manifest(path: Path, problems: list[str]) -> Manifest | None:
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        problems.extend(f"{path}: {field_name(err)}: {err['msg']}" for err in exc.errors())
        return None


def field_name(error: Any) -> str:
    return ".".join(str(part) for part in error["loc"]) or "(entry)"
