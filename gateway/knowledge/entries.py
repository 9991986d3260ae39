"""Knowledge-base files: entries in JSON Lines, an optional ``kb.json`` manifest per folder.

A knowledge base is one or more folders or ``.jsonl`` files. Each line of a ``.jsonl`` file is
one entry (see docs/knowledge-base.md). Problems are collected for the whole base and reported
together, each naming the file, the line and the field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass as plain_dataclass
from dataclasses import field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from gateway.knowledge.documents import Passage

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s<>\"]+$")]
MAX_REPORTED_PROBLEMS = 50


_STRICT = ConfigDict(extra="forbid")


# Entries are slotted dataclasses, validated by pydantic: a provincial base holds hundreds of
# thousands of them, and a model instance costs several times the memory of its text.
@dataclass(frozen=True, slots=True, config=_STRICT)
class Source:
    title: NonEmpty
    url: HttpUrl


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


_ENTRY = TypeAdapter(Entry)


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
    entries: list[Entry]
    manifests: list[Manifest] = field(default_factory=list)
    #: Pieces of documents (gateway/knowledge/documents.py), searched beside the entries.
    passages: list[Passage] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_id = {entry.id: entry for entry in self.entries}
        self._derived: dict[str, Any] = {}

    def derived(self, name: str, build: Callable[[KnowledgeBase], Any]) -> Any:
        """``build(self)``, built on first use and kept with this base: what the gateway's
        parts learn from the base (the understanding lexicon) is learnt once per base."""
        if name not in self._derived:
            self._derived[name] = build(self)
        return self._derived[name]

    @property
    def sample(self) -> bool:
        return any(manifest.sample for manifest in self.manifests)

    @property
    def hot(self) -> list[Entry]:
        return [self.by_id[i] for m in self.manifests for i in m.hot if i in self.by_id]

    @property
    def categories(self) -> list[Category]:
        return [category for manifest in self.manifests for category in manifest.categories]


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


def load(paths: Iterable[str | Path]) -> KnowledgeBase:
    """Read every entry under ``paths`` (folders or ``.jsonl`` files), checking all of them."""
    entries: list[Entry] = []
    manifests: list[Manifest] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
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
            files = sorted(path.glob("*.jsonl"))
            if not files:
                problems.append(f"{path}: the folder holds no .jsonl files")
        else:
            files = [path]
        for file in files:
            for where, entry in _read_entries(file, problems):
                if entry.id in seen:
                    problems.append(
                        f"{where}: id: {entry.id!r} is already used at {seen[entry.id]}"
                    )
                    continue
                seen[entry.id] = where
                entries.append(entry)
    base = KnowledgeBase(entries, manifests)
    for manifest in manifests:
        problems.extend(
            f"kb.json ({manifest.name}): hot: no entry has the id {entry_id!r}"
            for entry_id in manifest.hot
            if entry_id not in base.by_id
        )
    if problems:
        raise KnowledgeBaseError(problems)
    if not entries:
        raise KnowledgeBaseError(["the knowledge base has no entries"])
    return base


def _read_entries(file: Path, problems: list[str]) -> Iterator[tuple[str, Entry]]:
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        problems.append(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return
    for number, line in enumerate(lines, start=1):
        where = f"{file}:{number}"
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data, dict):
            problems.append(f"{where}: an entry must be a JSON object")
            continue
        try:
            yield where, _ENTRY.validate_python(data)
        except ValidationError as exc:
            problems.extend(f"{where}: {_field(err)}: {err['msg']}" for err in exc.errors())


def _load_manifest(path: Path, problems: list[str]) -> Manifest | None:
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        problems.extend(f"{path}: {_field(err)}: {err['msg']}" for err in exc.errors())
        return None


def _field(error: Any) -> str:
    return ".".join(str(part) for part in error["loc"]) or "(entry)"
