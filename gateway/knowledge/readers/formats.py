"""Each document format to :class:`~gateway.knowledge.readers.passages.Block` s, with the
library made for it: trafilatura for a page's main content (no navigation, header or footer)
and its metadata, markdown-it-py for Markdown (and trafilatura's Markdown output), python-docx,
pypdf's text layer. Plain text and PDF text have no markup, so their headings are the
numbering Chinese official documents use (第一章, 一、, （一）).

Each reader returns a :class:`Parsed`; what stops a file being read is raised as
:class:`Unreadable` with a sentence for the operator.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

from gateway.knowledge.readers.passages import Block
from gateway.knowledge.readers.text import decode


class Unreadable(Exception):
    """The file cannot be read at all; the message says why, for the operator."""


@dataclass
class Parsed:
    blocks: list[Block]
    title: str = ""
    url: str = ""
    updated: dt.date | None = None
    #: Problems that did not stop the file being read (a wrong charset declaration …).
    problems: list[str] = field(default_factory=list)


def html(path: Path, data: bytes) -> Parsed:
    import trafilatura
    from w3lib.encoding import html_body_declared_encoding

    text, problem = decode(data, html_body_declared_encoding(data[:4096]))
    if text is None:
        raise Unreadable(problem or "not text")
    # Precision mode keeps headings and lists and drops menus; the default (recall) mode keeps
    # a short page's navigation links as text.
    content = trafilatura.extract(
        text,
        output_format="markdown",
        include_formatting=True,
        include_tables=True,
        favor_precision=True,
    )
    meta = trafilatura.extract_metadata(text)
    return Parsed(
        markdown_blocks(content or ""),
        title=(meta.title or "").strip() if meta else "",
        url=(meta.url or "") if meta else "",
        updated=_date(meta.date) if meta else None,
        problems=[problem] if problem else [],
    )


def markdown(path: Path, data: bytes) -> Parsed:
    text, problem = decode(data, "utf-8")
    if text is None:
        raise Unreadable(problem or "not text")
    blocks = markdown_blocks(text)
    title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "")
    return Parsed(blocks, title=title, problems=[problem] if problem else [])


_MARKDOWN = MarkdownIt("commonmark").enable("table")


def markdown_blocks(text: str) -> list[Block]:
    """Headings, paragraphs and list items of Markdown; table rows as ``a | b`` lines."""
    blocks: list[Block] = []
    tokens = _MARKDOWN.parse(text)
    in_item = 0
    level = 0
    row: list[str] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            level = int(token.tag[1:])
        elif token.type == "list_item_open":
            in_item += 1
        elif token.type == "list_item_close":
            in_item -= 1
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            blocks.append(Block("text", " | ".join(row)))
        elif token.type == "inline":
            parent = tokens[index - 1].type
            if parent == "heading_open":
                blocks.append(Block("heading", token.content, level=level))
            elif parent in ("th_open", "td_open"):
                row.append(token.content)
            else:
                blocks.append(Block("item" if in_item else "text", token.content))
        elif token.type in ("fence", "code_block"):
            blocks.append(Block("text", token.content))
    return blocks


def docx(path: Path, data: bytes) -> Parsed:
    import docx as python_docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = python_docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise Unreadable(f"not a readable .docx file ({type(exc).__name__}: {exc})") from exc
    blocks: list[Block] = []
    for part in document.iter_inner_content():
        if isinstance(part, Table):
            blocks.extend(
                Block("text", " | ".join(cell.text.strip() for cell in row.cells))
                for row in part.rows
            )
            continue
        style = (part.style.name if part.style is not None else "") or ""
        heading = re.match(r"^(?:Heading|标题)\s*(\d)$", style)
        if heading or style == "Title":
            blocks.append(Block("heading", part.text, level=int(heading[1]) if heading else 1))
        elif "List" in style or (part._p.pPr is not None and part._p.pPr.numPr is not None):
            blocks.append(Block("item", part.text))
        else:
            blocks.append(Block("text", part.text))
    properties = document.core_properties
    title = properties.title or next((b.text for b in blocks if b.kind == "heading"), "")
    updated = properties.modified or properties.created
    return Parsed(blocks, title=title.strip(), updated=updated.date() if updated else None)


def pdf(path: Path, data: bytes) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("encrypted: it needs a password to open; export it without one")
        # Some fonts' character maps give NULs between the characters; no text has controls.
        pages = [_CONTROLS.sub("", page.extract_text() or "") for page in reader.pages]
    except (FileNotDecryptedError, DependencyError) as exc:
        raise Unreadable(f"encrypted, and cannot be opened ({exc})") from exc
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise Unreadable(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if not any(page.strip() for page in pages):
        raise Unreadable(
            f"no text layer on its {len(pages)} page(s) (a scanned image?): OCR is not "
            "configured, so nothing was read; export the document with its text"
        )
    blocks = [block for number, page in enumerate(pages, 1) for block in plain_blocks(page, number)]
    meta = reader.metadata
    title = (meta.title or "").strip() if meta else ""
    date = (meta.modification_date or meta.creation_date) if meta else None
    return Parsed(blocks, title=title, updated=date.date() if date else None)


def plain(path: Path, data: bytes) -> Parsed:
    text, problem = decode(data)
    if text is None:
        raise Unreadable(problem or "not text")
    blocks = plain_blocks(text)
    title = ""
    # A short first line on its own is the title, not a passage.
    if blocks and blocks[0].kind == "text" and len(blocks[0].text) <= 40 and len(blocks) > 1:
        title = blocks[0].text
        blocks[0] = Block("heading", title, level=1)
    return Parsed(blocks, title=title, problems=[problem] if problem else [])


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Headings of Chinese official documents: 第一章/第二节/第三条, 一、, （一）.
_HEADING = re.compile(
    r"^(第[一二三四五六七八九十百零\d]+[章节条部分]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）])"
)
#: List items: 1. 1、 (1) （1） • -.
_ITEM = re.compile(r"^(\d+[.、．]|[（(]\d+[)）]|[•●·\-*])\s*")
_ENDS = "。！？；：.!?;:”’）)"


def plain_blocks(text: str, page: int = 0) -> list[Block]:
    """Paragraphs of text without markup: lines broken by the layout are joined again (a line
    not ending a sentence continues on the next), and numbered lines start items."""
    blocks: list[Block] = []
    current: list[str] = []
    kind = "text"

    def flush() -> None:
        if current:
            joined = "".join(
                line
                if i == 0 or not (current[i - 1][-1:].isascii() and line[:1].isascii())
                else " " + line
                for i, line in enumerate(current)
            )
            blocks.append(Block(kind, joined, page=page))  # type: ignore[arg-type]
            current.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            kind = "text"
            continue
        heading = _HEADING.match(line)
        if heading and len(line) <= 40:
            flush()
            level = 1 if line.startswith("第") else 2 if "、" in heading[0] else 3
            blocks.append(Block("heading", line, level=level, page=page))
            kind = "text"
            continue
        if _ITEM.match(line):
            flush()
            kind = "item"
            current.append(_ITEM.sub("", line, count=1) if line[0] in "•●·-*" else line)
            continue
        if current and current[-1][-1:] in _ENDS:
            flush()
            kind = "text"
        current.append(line)
    flush()
    return blocks


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


#: Reader by file suffix.
READERS = {
    ".html": html,
    ".htm": html,
    ".md": markdown,
    ".markdown": markdown,
    ".docx": docx,
    ".pdf": pdf,
    ".txt": plain,
}
