"""Passages: the pieces of a government's own documents (HTML pages, PDF, DOCX, Markdown, text)
that the retrievers search beside the curated question–answer entries.

A reader (gateway/knowledge/readers/) cuts a document into passages along its headings, list
items and sentence ends; each passage keeps what a citation needs: the document's title, the
section heading, the URL (a ``#fragment`` after it is fine) and the date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Passage:
    #: Unique across the base and stable across builds of unchanged files
    #: (e.g. ``<file stem>-<sha1 of file path>-<n>``).
    id: str
    #: The passage's text, Markdown (lists and emphasis kept).
    text: str
    #: The document's title (``<title>``/``<h1>``, the sheet's, ``sources.csv``'s).
    title: str
    #: The heading of the section the passage sits in, empty before the first heading.
    section: str = ""
    #: The document's URL, http(s), or empty when none is known.
    url: str = ""
    updated: dt.date | None = None
    #: The file it was read from, for operators' reports and incremental rebuilds.
    file: str = ""
    category: str | None = None


@dataclass(slots=True)
class SourceReport:
    """What reading one file gave: shown on the admin page and by ``gateway kb build``."""

    file: str
    #: ``entries`` (.jsonl), ``sheet`` (.xlsx/.csv), ``html``, ``pdf``, ``docx``, ``md``, ``txt``;
    #: also ``sources`` (a ``sources.csv``) and the old formats reported as not read (``doc`` …).
    kind: str
    entries: int = 0
    passages: int = 0
    #: Each problem names the file and, where there is one, the row or line.
    problems: list[str] = field(default_factory=list)
    #: When the file was read (UTC), for the admin page's "last read".
    read_at: dt.datetime | None = None
