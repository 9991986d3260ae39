"""FAQ sheets (``.xlsx`` with openpyxl, ``.csv``): one question and answer a row, under a
header row in Chinese or English. Each good row becomes an :class:`Entry`; a row that is not is
reported by its row number and skipped, and a sheet without a question or answer column is
reported and skipped whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gateway.knowledge.entries import ENTRY, Entry, field_name
from gateway.knowledge.readers.text import decode

#: Header names by field, compared without case, spaces, ``*`` or a trailing colon.
HEADERS: dict[str, tuple[str, ...]] = {
    "question": ("问题", "标准问题", "常见问题", "问题描述", "question", "q"),
    "answer": ("答案", "回答", "答复", "解答", "answer", "a"),
    "category": ("分类", "类别", "问题分类", "事项分类", "category"),
    "url": ("链接", "网址", "来源链接", "原文链接", "url", "link"),
    "phrasings": ("相似问法", "相似问题", "其他问法", "扩展问法", "phrasings", "similar questions"),
    "updated": ("更新日期", "更新时间", "日期", "updated", "date"),
    "id": ("编号", "id"),
}
REQUIRED = ("question", "answer")
#: Between phrasings in one cell: line breaks, semicolons, vertical bars.
PHRASING_SEPARATORS = re.compile(r"[\r\n;；|｜]+")
#: Category of rows of a sheet without a category column (and no ``sources.csv`` category).
DEFAULT_CATEGORY = "general"


class SheetMeta:
    """What cites a row that has no link of its own: the sheet's title and URL."""

    def __init__(self, title: str, url: str, updated: dt.date, category: str | None) -> None:
        self.title, self.url, self.updated, self.category = title, url, updated, category


def read_xlsx(path: Path, meta: SheetMeta, problems: list[str]) -> list[tuple[str, Entry]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, XML and its own errors alike
        problems.append(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})")
        return []
    try:
        if workbook.properties.title and meta.title == path.stem:
            meta.title = workbook.properties.title
        entries: list[tuple[str, Entry]] = []
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            entries.extend(_entries(rows, f"{path}:{sheet.title}!", meta, problems, path))
        return entries
    finally:
        workbook.close()


def read_csv(
    path: Path, data: bytes, meta: SheetMeta, problems: list[str]
) -> list[tuple[str, Entry]]:
    text, problem = decode(data)
    if text is None:
        problems.append(f"{path}: {problem}")
        return []
    rows = csv.reader(io.StringIO(text, newline=""))
    return list(_entries(rows, f"{path}:", meta, problems, path))


def _entries(
    rows: Iterator[Any], where: str, meta: SheetMeta, problems: list[str], path: Path
) -> Iterator[tuple[str, Entry]]:
    columns: dict[str, int] | None = None
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        cells = [_text(cell) for cell in row]
        if not any(cells):
            continue
        if columns is None:
            columns = _columns(cells)
            missing = [name for name in REQUIRED if name not in columns]
            if missing:
                wanted = " and ".join(f"{HEADERS[name][0]}/{name}" for name in missing)
                problems.append(
                    f"{where}{number}: no {wanted} column in the header row "
                    f"({', '.join(c for c in cells if c) or 'empty'}); the sheet was skipped"
                )
                return
            continue
        values = {name: cells[i] if i < len(cells) else "" for name, i in columns.items()}
        raw_date = (
            row[columns["updated"]]
            if "updated" in columns and columns["updated"] < len(row)
            else None
        )
        entry = _entry(values, raw_date, meta, f"{where}{number}", problems, path)
        if entry is None:
            continue
        if entry.id in seen:
            problems.append(f"{where}{number}: the same question as row {seen[entry.id]}; skipped")
            continue
        seen[entry.id] = number
        yield f"{where}{number}", entry


def _columns(header: list[str]) -> dict[str, int]:
    names = {alias: name for name, aliases in HEADERS.items() for alias in aliases}
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = re.sub(r"[\s*＊:：]", "", cell).lower()
        name = names.get(key)
        if name and name not in columns:
            columns[name] = index
    return columns


def _entry(
    values: dict[str, str],
    raw_date: Any,
    meta: SheetMeta,
    where: str,
    problems: list[str],
    path: Path,
) -> Entry | None:
    for name in REQUIRED:
        if not values.get(name):
            problems.append(f"{where}: {HEADERS[name][0]}/{name} is empty; the row was skipped")
            return None
    updated: Any = meta.updated
    if isinstance(raw_date, dt.datetime):
        updated = raw_date.date()
    elif isinstance(raw_date, dt.date):
        updated = raw_date
    elif values.get("updated"):
        updated = values["updated"].replace("/", "-").replace(".", "-")[:10]
    url = values.get("url") or ""
    data = {
        "id": values.get("id") or _id(path, values["question"]),
        "category": values.get("category") or meta.category or DEFAULT_CATEGORY,
        "question": values["question"],
        "answer": values["answer"],
        "phrasings": [
            p.strip() for p in PHRASING_SEPARATORS.split(values.get("phrasings", "")) if p.strip()
        ],
        # A row without its own link cites the sheet.
        "source": {"title": meta.title, "url": url or meta.url},
        "updated": updated,
    }
    try:
        return ENTRY.validate_python(data)
    except ValidationError as exc:
        problems.extend(
            f"{where}: {field_name(error)}: {error['msg']}; the row was skipped"
            for error in exc.errors()
        )
        return None


def _id(path: Path, question: str) -> str:
    """Stable while the question's wording is: rows may be inserted or moved."""
    digest = hashlib.sha1(f"{path.name}\n{question}".encode()).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9]+", "-", path.stem).strip("-").lower()[:40]
    return f"{stem}-{digest}" if stem else f"sheet-{digest}"


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    return str(cell).strip()
