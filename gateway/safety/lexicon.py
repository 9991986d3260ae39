"""Sensitive-word lexicons: operators' term lists, matched with one Aho-Corasick automaton.

A lexicon file is UTF-8 text, one term a line, tab-separated::

    # term      category   action
    办假证       fraud      block
    傻逼         insult     mask
    自杀         self_harm  review

``action`` is ``block`` (a question is refused, an answer withdrawn), ``mask`` (the words are
replaced by ＊ and the text goes on) or ``review`` (the text goes on; the event is logged for
staff to look at). Category and action may be left out (``default``, ``block``). Blank lines
and lines starting with ``#`` are skipped. A term listed twice keeps its strongest action.

Terms and texts are compared after :mod:`gateway.safety.normalize`, and once more with the
letters slipped between Chinese characters left out (办x假x证). A term made of Latin letters or
digits only matches whole words (``ass`` is not found in ``class``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import ahocorasick

from gateway.safety.normalize import aligned, letter_noise, normalize, table

log = logging.getLogger("gateway.safety")

Action = Literal["block", "mask", "review"]
ACTIONS: tuple[Action, ...] = ("review", "mask", "block")  # weakest first
#: What a masked character becomes (full width, so that it is never Markdown emphasis).
MASK = "＊"
#: Terms longer than this (after normalization) are refused: a streamed answer holds back as
#: many characters as the longest term has.
MAX_TERM_CHARS = 64
#: The automaton's value of a term: its kind (category, action) above, its length in UTF-8
#: bytes (at most 4 × ``MAX_TERM_CHARS``) in the low bits.
_LENGTH_BITS = 10
_LENGTH_MASK = (1 << _LENGTH_BITS) - 1


def _keyed(normalized: str) -> str:
    """The automaton reads UTF-8 bytes (as Latin-1 characters), not characters: a node then has
    at most 256 children instead of thousands, which makes a scan about ten times faster."""
    return normalized.encode("utf-8").decode("latin-1")


class LexiconError(ValueError):
    """A lexicon file cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Match:
    #: Where the term is in the text as written (noise characters inside it included).
    start: int
    end: int
    #: The normalized term.
    term: str
    category: str
    action: Action


#: One line of a lexicon: term, category, action.
Entry = tuple[str, str, Action]


class Lexicon:
    """An immutable, searchable set of terms. Build a new one to change it (see ``Safety``)."""

    def __init__(self, entries: Iterable[Entry], sources: Sequence[str] = ()) -> None:
        started = time.perf_counter()
        mapping = table()
        self.sources = list(sources)
        self._kinds: list[tuple[str, Action]] = []
        kind_ids: dict[tuple[str, Action], int] = {}
        strength = {action: rank for rank, action in enumerate(ACTIONS)}
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        add, get = automaton.add_word, automaton.get
        entries = list(entries)
        # Normalized and byte-keyed in bulk (one C call each, not three per term): a line
        # break is neither noise nor part of a UTF-8 sequence, so it keeps the terms apart.
        lines = {**mapping, ord("\n"): "\n"}
        terms = "\n".join(raw.replace("\n", " ") for raw, _, _ in entries).translate(lines)
        normalized = terms.split("\n") if entries else []
        keys = _keyed(terms).split("\n") if entries else []
        for term, key, (_, category, action) in zip(normalized, keys, entries, strict=True):
            if not term or len(term) > MAX_TERM_CHARS:
                continue
            kind_id = kind_ids.get((category, action))
            if kind_id is None:
                kind_id = kind_ids[(category, action)] = len(self._kinds)
                self._kinds.append((category, action))
            old = get(key, None)
            if (
                old is not None
                and strength[self._kinds[old >> _LENGTH_BITS][1]] >= strength[action]
            ):
                continue  # listed before with an action at least as strong
            add(key, kind_id << _LENGTH_BITS | len(key))
        self.size = len(automaton)
        if self.size:
            automaton.make_automaton()
        self._automaton = automaton
        #: The longest term, in normalized characters.
        self.longest = max(
            (len(term) for term in normalized if len(term) <= MAX_TERM_CHARS), default=0
        )
        self.build_seconds = time.perf_counter() - started

    @classmethod
    def from_files(cls, paths: Sequence[str | Path]) -> Lexicon:
        entries: list[Entry] = []
        for path in paths:
            entries.extend(read_entries(Path(path)))
        return cls(entries, [str(path) for path in paths])

    def __len__(self) -> int:
        return self.size

    def scan(self, text: str) -> list[Match]:
        """Every term in ``text``, in order of where it ends."""
        if not self.size:
            return []
        normalized = text.translate(table())
        hits = self._hits(normalized)
        across = self._hits_across_letter_noise(normalized)
        if not hits and not across:
            return []
        _, origin = aligned(text)
        matches = []
        for start, end, term, value in hits:
            first, last = origin[start], origin[end] + 1
            if _whole_word(text, first, last, term):
                matches.append(self._match(first, last, term, value))
        if across:
            for start, end, term, value in across:
                matches.append(self._match(origin[start], origin[end] + 1, term, value))
            matches.sort(key=lambda match: match.end)
        return matches

    def _hits_across_letter_noise(self, normalized: str) -> list[tuple[int, int, str, int]]:
        """The terms found once the letters slipped between Chinese characters are left out,
        that span such a gap (the others were found already), in ``normalized``'s positions."""
        noise = letter_noise(normalized)
        if not noise:
            return []
        pieces: list[str] = []
        positions: list[int] = []
        previous = 0
        for noise_start, noise_end in [*noise, (len(normalized), len(normalized))]:
            pieces.append(normalized[previous:noise_start])
            positions.extend(range(previous, noise_start))
            previous = noise_end
        return [
            (positions[start], positions[end], term, value)
            for start, end, term, value in self._hits("".join(pieces))
            if positions[end] - positions[start] != end - start
        ]

    def _hits(self, normalized: str) -> list[tuple[int, int, str, int]]:
        """``(start, end, term, value)`` of every term in ``normalized``; ``end`` inclusive."""
        keyed = _keyed(normalized)
        hits = []
        for byte_end, value in self._automaton.iter(keyed):
            byte_start = byte_end - (value & _LENGTH_MASK) + 1
            term = keyed[byte_start : byte_end + 1].encode("latin-1").decode("utf-8")
            end = len(keyed[: byte_end + 1].encode("latin-1").decode("utf-8")) - 1
            hits.append((end - len(term) + 1, end, term, value))
        return hits

    def _match(self, start: int, end: int, term: str, value: int) -> Match:
        category, action = self._kinds[value >> _LENGTH_BITS]
        return Match(start, end, term, category, action)


def _whole_word(text: str, start: int, end: int, term: str) -> bool:
    """A term of Latin letters and digits must not be part of a longer word."""
    if not (term.isascii() and term.isalnum()):
        return True
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return not (_word_char(before) or _word_char(after))


def _word_char(char: str) -> bool:
    return bool(char) and char.isascii() and char.isalnum()


def masked(text: str, matches: Iterable[Match]) -> str:
    """``text`` with every character of each ``mask`` match replaced by ``MASK`` (the length
    stays the same, so positions in the text keep their meaning)."""
    chars = list(text)
    for match in matches:
        if match.action == "mask":
            for index in range(match.start, match.end):
                chars[index] = MASK
    return "".join(chars)


def strongest(matches: Iterable[Match]) -> Action | None:
    found = {match.action for match in matches}
    for action in reversed(ACTIONS):
        if action in found:
            return action
    return None


def read_entries(path: Path) -> list[Entry]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"lexicon {path}: {exc}") from exc
    entries: list[Entry] = []
    append = entries.append
    for number, line in enumerate(lines, 1):
        fields = line.split("\t")
        if len(fields) == 3 and fields[2] in ACTIONS and fields[1] and fields[0][:1] not in "# ":
            append((fields[0], fields[1], fields[2]))  # type: ignore[arg-type]
            continue
        term = fields[0].strip()
        if not term or term.startswith("#"):
            continue
        category = fields[1].strip() if len(fields) > 1 and fields[1].strip() else "default"
        action = fields[2].strip() if len(fields) > 2 and fields[2].strip() else "block"
        if action not in ACTIONS:
            raise LexiconError(
                f"lexicon {path}, line {number}: action {action!r} is not one of "
                f"block, mask, review"
            )
        if len(normalize(term)) > MAX_TERM_CHARS:
            raise LexiconError(
                f"lexicon {path}, line {number}: longer than {MAX_TERM_CHARS} characters"
            )
        append((term, category, action))  # type: ignore[arg-type]
    return entries
