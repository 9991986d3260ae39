"""Reading the files of a knowledge base, one at a time, whatever their kind.

:func:`read_file` reads ONE file into entries (``.jsonl``, FAQ sheets ``.xlsx``/``.csv``) or
passages (documents ``.html``/``.htm``, ``.pdf``, ``.docx``, ``.md``, ``.txt``) and says what
it found in a :class:`~gateway.knowledge.documents.SourceReport`; an index rebuilds only the
files that changed by calling it for each. :func:`files_under` lists the files of a folder
that it reads. A ``sources.csv`` (``file,url,title``, optionally ``updated,category``) beside
documents gives them their URL and title, which a document's own metadata cannot always.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from gateway.knowledge.documents import Passage, SourceReport
from gateway.knowledge.entries import HTTP_URL, Entry, read_jsonl
from gateway.knowledge.readers import formats, sheets
from gateway.knowledge.readers.passages import Document, cut
from gateway.knowledge.readers.text import decode

#: Kind (as :class:`SourceReport` names it) by file suffix.
KINDS = {
    ".jsonl": "entries",
    ".xlsx": "sheet",
    ".csv": "sheet",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
}
#: Older formats a web team often has: reported with what to do, not silently passed over.
OLD_FORMATS = {
    ".doc": ".docx",
    ".wps": ".docx",
    ".xls": ".xlsx",
    ".et": ".xlsx",
}
#: What an empty file of a kind lacks.
EMPTY = {
    "entries": "no entries in it",
    "sheet": "no rows under the header",
    "html": "no main content found (a page of links only?)",
}
SOURCES_FILE = "sources.csv"
#: Files of a folder that are not sources themselves.
NOT_SOURCES = {SOURCES_FILE, "kb.json"}


@dataclass(frozen=True)
class ReadOptions:
    #: A larger file is reported and not read (``[knowledge] max_file_bytes``).
    max_file_bytes: int = 50_000_000
    #: Passage size bounds in characters (``[knowledge] passage_chars``, a third of it).
    passage_chars: int = 600

    @property
    def min_passage_chars(self) -> int:
        return self.passage_chars // 3


@dataclass
class FileRead:
    entries: list[Entry] = field(default_factory=list)
    #: Where each entry was read: ``file:line`` or ``file:sheet!row``.
    places: list[str] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    report: SourceReport = field(default_factory=lambda: SourceReport("", ""))


def files_under(folder: Path) -> list[Path]:
    """The files under ``folder`` (and its subfolders) that :func:`read_file` reads or reports,
    in a stable order; hidden files and folders are left out."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and path.name not in NOT_SOURCES
        and (path.suffix.lower() in KINDS or path.suffix.lower() in OLD_FORMATS)
    )


def kind_of(path: Path) -> str:
    return KINDS.get(path.suffix.lower(), "unknown")


def read_file(path: str | Path, options: ReadOptions | None = None) -> FileRead:
    """Entries or passages of one file, and the report on it. Never raises for the file's
    content: each problem is in ``report.problems``, naming the file (and row or line), and
    what could be read is returned."""
    path = Path(path)
    options = options or ReadOptions()
    kind = kind_of(path)
    result = FileRead(report=SourceReport(str(path), kind, read_at=_now()))
    problems = result.report.problems
    suffix = path.suffix.lower()
    if suffix in OLD_FORMATS:
        result.report.kind = suffix[1:]
        problems.append(
            f"{path}: the old {suffix} format is not read; save it as {OLD_FORMATS[suffix]}"
        )
        return result
    if kind == "unknown":
        problems.append(f"{path}: not a kind of file the knowledge base reads ({', '.join(KINDS)})")
        return result
    try:
        size = path.stat().st_size
        if size > options.max_file_bytes:
            problems.append(
                f"{path}: {size / 1e6:.1f} MB, over the limit of "
                f"{options.max_file_bytes / 1e6:.1f} MB ([knowledge] max_file_bytes); not read"
            )
            return result
        data = path.read_bytes()
    except OSError as exc:
        problems.append(f"{path}: cannot be read ({exc.strerror or exc})")
        return result
    described = described_by_sources(path)
    if kind == "entries":
        located = list(read_jsonl(path, data, problems))
    elif kind == "sheet":
        located = _sheet(path, data, described, problems)
    else:
        located = []
        result.passages = _document(path, data, kind, described, options, problems)
    result.places = [where for where, _ in located]
    result.entries = [entry for _, entry in located]
    result.report.entries = len(result.entries)
    result.report.passages = len(result.passages)
    if not result.entries and not result.passages and not problems:
        problems.append(f"{path}: empty: {EMPTY.get(kind, 'no text in it')}")
    return result


def _sheet(
    path: Path, data: bytes, described: Described, problems: list[str]
) -> list[tuple[str, Entry]]:
    meta = sheets.SheetMeta(
        title=described.title or path.stem,
        url=described.url,
        updated=described.updated or _modified(path),
        category=described.category,
    )
    if path.suffix.lower() == ".csv":
        return sheets.read_csv(path, data, meta, problems)
    return sheets.read_xlsx(path, meta, problems)


def _document(
    path: Path,
    data: bytes,
    kind: str,
    described: Described,
    options: ReadOptions,
    problems: list[str],
) -> list[Passage]:
    try:
        parsed = formats.READERS[path.suffix.lower()](path, data)
    except formats.Unreadable as exc:
        problems.append(f"{path}: {exc}")
        return []
    problems.extend(f"{path}: {problem}" for problem in parsed.problems)
    url = described.url or parsed.url
    if url and not HTTP_URL.match(url):
        problems.append(
            f"{path}: the URL {url!r} is not http(s); passages are cited without a link"
        )
        url = ""
    document = Document(
        file=str(path),
        title=described.title or parsed.title or path.stem,
        url=url,
        updated=described.updated or parsed.updated,
        category=described.category,
        paged=kind == "pdf",
    )
    return cut(parsed.blocks, document, options.passage_chars, options.min_passage_chars)


# -- sources.csv ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Described:
    """A file's row of the ``sources.csv`` beside it."""

    url: str = ""
    title: str = ""
    updated: dt.date | None = None
    category: str | None = None


def described_by_sources(path: Path) -> Described:
    listing = path.parent / SOURCES_FILE
    if not listing.is_file():
        return Described()
    stat = listing.stat()
    rows, _ = _sources(str(listing), stat.st_mtime_ns, stat.st_size)
    return rows.get(path.name, Described())


def read_sources(listing: Path) -> SourceReport:
    """The report on a ``sources.csv`` itself: rows naming no file, bad URLs or dates."""
    stat = listing.stat()
    rows, problems = _sources(str(listing), stat.st_mtime_ns, stat.st_size)
    problems = problems + [
        f"{listing}: {name}: no such file beside it"
        for name in rows
        if not (listing.parent / name).is_file()
    ]
    return SourceReport(str(listing), "sources", problems=problems, read_at=_now())


@lru_cache(maxsize=64)
def _sources(listing: str, mtime_ns: int, size: int) -> tuple[dict[str, Described], list[str]]:
    """Rows of one ``sources.csv`` by file name, read once per version of the file."""
    problems: list[str] = []
    text, problem = decode(Path(listing).read_bytes())
    if text is None:
        return {}, [f"{listing}: {problem}"]
    rows: dict[str, Described] = {}
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "file" not in [name.strip().lower() for name in reader.fieldnames]:
        return {}, [f"{listing}:1: the header row must name the columns file,url,title"]
    for number, raw in enumerate(reader, start=2):
        row = {(key or "").strip().lower(): (value or "").strip() for key, value in raw.items()}
        name, url = row.get("file", ""), row.get("url", "")
        if not name:
            continue
        if url and not HTTP_URL.match(url):
            problems.append(f"{listing}:{number}: url: {url!r} is not http(s); ignored")
            url = ""
        updated = None
        if row.get("updated"):
            try:
                updated = dt.date.fromisoformat(row["updated"][:10])
            except ValueError:
                problems.append(f"{listing}:{number}: updated: {row['updated']!r} is not a date")
        rows[name] = Described(
            url=url,
            title=row.get("title", ""),
            updated=updated,
            category=row.get("category") or None,
        )
    return rows, problems


def _modified(path: Path) -> dt.date:
    return dt.date.fromtimestamp(path.stat().st_mtime)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
