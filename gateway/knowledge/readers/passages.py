"""Cutting a document into passages along its headings, list items and sentence ends.

Every document reader turns its format into the same :class:`Block` sequence (headings,
paragraphs, list items, each with the page it is on); :func:`cut` packs the blocks of one
section into passages of at most ``max_chars`` characters, splitting a block that is longer
at Chinese (。！？；) or Western sentence ends, so a passage never ends mid-sentence unless one
sentence alone is longer than a passage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from gateway.knowledge.documents import Passage

#: A sentence: up to a Chinese sentence end (with its closing quotes or brackets), or a
#: Western one followed by a space, or the end of the text.
SENTENCE = re.compile(r".+?(?:[。！？；!?…]+[”’」』）)]*|[.;:](?=\s)|$)", re.S)


@dataclass(frozen=True, slots=True)
class Block:
    kind: Literal["heading", "text", "item"]
    text: str
    #: Heading level, 1 for the top.
    level: int = 0
    #: The page it is on (PDF), 0 when the format has no pages.
    page: int = 0


@dataclass(frozen=True, slots=True)
class Document:
    """What a citation needs about the document the passages come from."""

    file: str
    title: str
    url: str = ""
    updated: dt.date | None = None
    category: str | None = None
    #: PDF: link each passage to its page (``#page=N``), not its heading.
    paged: bool = False


def cut(blocks: list[Block], document: Document, max_chars: int, min_chars: int) -> list[Passage]:
    """The passages of ``document``, in reading order, with ids stable while the file's path
    and content stay the same."""
    pieces: list[tuple[str, str, int]] = []  # (section, text, page)
    headings: dict[int, str] = {}
    buffer: list[str] = []
    page = 0

    def flush() -> None:
        if buffer:
            pieces.append((_section(headings, document.title), "\n".join(buffer).strip(), page))
            buffer.clear()

    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        if block.kind == "heading":
            flush()
            headings = {level: h for level, h in headings.items() if level < block.level}
            headings[block.level] = text
            continue
        line = f"- {text}" if block.kind == "item" and not _numbered(text) else text
        size = sum(len(b) + 1 for b in buffer)
        if size and size + len(line) > max_chars:
            flush()
        if not buffer:
            page = block.page
        if len(line) <= max_chars:
            buffer.append(line)
            continue
        for part in _split(line, max_chars):
            if buffer and sum(len(b) + 1 for b in buffer) + len(part) > max_chars:
                flush()
                page = block.page
            buffer.append(part)
    flush()
    return _passages(_merge_small(pieces, max_chars, min_chars), document)


def _numbered(text: str) -> bool:
    return bool(re.match(r"^(\d+[.、)）]|[（(]\d+[)）]|[一二三四五六七八九十]+、)", text))


def _section(headings: dict[int, str], title: str) -> str:
    if not headings:
        return ""
    section = headings[max(headings)]
    return "" if section == title else section


def _split(text: str, max_chars: int) -> list[str]:
    """``text`` in sentences packed up to ``max_chars``; a longer sentence cut at the limit."""
    parts: list[str] = []
    current = ""
    for sentence in (s.strip() for s in SENTENCE.findall(text) if s.strip()):
        while len(sentence) > max_chars:
            if current:
                parts.append(current)
                current = ""
            parts.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        joiner = " " if current and current[-1].isascii() and sentence[:1].isascii() else ""
        if len(current) + len(joiner) + len(sentence) > max_chars:
            parts.append(current)
            current, joiner = "", ""
        current += joiner + sentence
    if current:
        parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def _merge_small(
    pieces: list[tuple[str, str, int]], max_chars: int, min_chars: int
) -> list[tuple[str, str, int]]:
    """A piece shorter than ``min_chars`` joins the previous one of its section when both fit
    in a passage: a section's last sentence is no passage of its own."""
    merged: list[tuple[str, str, int]] = []
    for section, text, page in pieces:
        if merged and len(text) < min_chars:
            last_section, last_text, last_page = merged[-1]
            if last_section == section and len(last_text) + len(text) + 1 <= max_chars:
                merged[-1] = (section, f"{last_text}\n{text}", last_page)
                continue
        merged.append((section, text, page))
    return merged


def _passages(pieces: list[tuple[str, str, int]], document: Document) -> list[Passage]:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(document.file).stem).strip("-").lower() or "doc"
    digest = hashlib.sha1(document.file.encode("utf-8")).hexdigest()[:8]
    return [
        Passage(
            id=f"{stem[:40]}-{digest}-{number}",
            text=text,
            title=document.title,
            section=section,
            url=_link(document, section, page),
            updated=document.updated,
            file=document.file,
            category=document.category,
        )
        for number, (section, text, page) in enumerate(pieces, start=1)
    ]


def _link(document: Document, section: str, page: int) -> str:
    """The document's URL, pointing at the page (PDF open parameters) or at the section's
    heading (a text fragment, which browsers scroll to and highlight)."""
    if not document.url:
        return ""
    base = document.url.split("#", 1)[0]
    if document.paged and page:
        return f"{base}#page={page}"
    if section:
        return f"{base}#:~:text={quote(section, safe='')}"
    return document.url
