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

import bisect
import logging
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import ahocorasick

from gateway.safety.normalize import NOISE_LETTERS, aligned, is_han, letter_noise, normalize, table

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

    def stream(self) -> StreamScan:
        """A scan of a text that arrives piece by piece (a streamed answer)."""
        return StreamScan(self)

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


class StreamScan:
    """:meth:`Lexicon.scan` of a text arriving piece by piece, in time linear in its length:
    each character is normalized once, and both automaton passes (as written, and with the
    letters slipped between Chinese characters left out) resume where the last piece ended
    (pyahocorasick's ``AutomatonSearchIter.set(..., reset=False)``) instead of reading the text
    again. The matches found once the text is complete are those ``scan`` finds in it.

    An LLM sends a token at a time, so the work per piece is kept to a loop over its
    characters and one call into each automaton; positions are turned back into characters
    only for the (rare) hits.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        #: The text so far, one character an item (a ``str`` grown piece by piece would be
        #: copied whole for every piece).
        self.chars: list[str] = []
        #: Latin terms at the very end, which the next character may make part of a longer
        #: word: neither found nor dismissed yet.
        self.pending: list[Match] = []
        #: Characters normalized and searched, for the linearity test and bench/safety.py.
        self.examined = 0
        self._normalized: list[str] = []
        self._origin: list[int] = []  # normalized character → index in ``chars``
        self._across: list[int] = []  # character of the second pass → normalized character
        self._direct_pass = _Pass()
        self._across_pass = _Pass()
        self._run: list[int] = []  # letters after a Chinese character: slipped in, or words
        self._after_han = False
        keep = max(lexicon.longest - 1, 0)
        #: Where each of the last ``keep`` counted characters begins (with letters slipped in
        #: just before it): a term still being written can only start there.
        self._counted: deque[int] = deque(maxlen=keep)
        self._keep = keep
        self._table = table()
        automaton = lexicon._automaton
        self._direct = automaton.iter("") if lexicon.size else None
        self._letters = automaton.iter("") if lexicon.size else None

    def feed(self, piece: str) -> list[Match]:
        """The terms settled by ``piece``: found, and no longer able to be part of a longer
        word."""
        found: list[Match] = []
        if not piece:
            return found
        if self.pending:
            if not _word_char(piece[0]):
                found.extend(self.pending)
            self.pending = []
        mapping = self._table
        chars, normalized, origin = self.chars, self._normalized, self._origin
        counted, run, across_map = self._counted, self._run, self._across
        first_new = len(normalized)
        across: list[str] = []
        index = len(chars)
        chars.extend(piece)
        for char in piece:
            for part in mapping.get(ord(char), char) or "":
                # The letter-noise pattern followed a character at a time: letters after a
                # Chinese character wait until the next character shows whether they were
                # slipped in (a Chinese character follows: left out of the second pass).
                position = len(normalized)
                origin.append(index)
                normalized.append(part)
                if "\u3400" <= part < "\ufb00" and is_han(part):
                    counted.append(run[0] if run else position)
                    run.clear()
                    self._after_han = True
                elif self._after_han and part in NOISE_LETTERS and len(run) < 2:
                    run.append(position)
                    continue
                else:
                    for letter in run:
                        counted.append(letter)
                        across_map.append(letter)
                        across.append(normalized[letter])
                    run.clear()
                    self._after_han = False
                    counted.append(position)
                across_map.append(position)
                across.append(part)
            index += 1
        self.examined += len(piece)
        if self._direct is None:
            return found
        fresh = "".join(normalized[first_new:])
        if fresh:
            self._search(fresh, first_new, found, across=False)
        if across:
            self._search("".join(across), len(across_map) - len(across), found, across=True)
        if len(found) > 1:
            found.sort(key=lambda match: match.end)
        return found

    def hold(self) -> int:
        """How much of the text may be shown: everything before the first character that may
        still be the start of a term (noise right before it included)."""
        origin = self._origin
        if not origin:
            return 0
        if not self._keep:
            cut = origin[-1] + 1
        elif len(self._counted) < self._keep:
            cut = 0
        else:
            position = self._counted[0]
            cut = min(origin[position], origin[position - 1] + 1) if position else 0
        for match in self.pending:
            cut = min(cut, match.start)
        return cut

    def _search(self, fresh: str, first: int, found: list[Match], *, across: bool) -> None:
        """Go on with one pass over ``fresh`` (its first character is ``first`` of the pass)."""
        keyed = fresh if fresh.isascii() else _keyed(fresh)
        pass_ = self._across_pass if across else self._direct_pass
        search = self._letters if across else self._direct
        pass_.add(keyed, first)
        search.set(keyed, False)  # type: ignore[union-attr]
        normalized, across_map, chars = self._normalized, self._across, self.chars
        for byte_end, value in search:  # type: ignore[union-attr]
            last = pass_.character(byte_end)
            first_char = pass_.character(byte_end - (value & _LENGTH_MASK) + 1)
            if across:
                if across_map[last] - across_map[first_char] == last - first_char:
                    continue  # spans no slipped letters: the direct pass found it
                positions = across_map[first_char : last + 1]
                first_char, last = positions[0], positions[-1]
            else:
                positions = range(first_char, last + 1)
            term = "".join(normalized[i] for i in positions)
            start, end = self._origin[first_char], self._origin[last] + 1
            if not across and term.isascii() and term.isalnum():
                if start and _word_char(chars[start - 1]):
                    continue
                if end < len(chars) and _word_char(chars[end]):
                    continue
            match = self.lexicon._match(start, end, term, value)
            if end == len(chars) and term.isascii():
                self.pending.append(match)
            else:
                found.append(match)


class _Pass:
    """The bytes one automaton pass has read, piece by piece, to turn a hit's byte position
    back into a character (hits are rare: the table of a piece is made at its first hit)."""

    def __init__(self) -> None:
        self.starts: list[int] = []  # each piece's first byte
        self.pieces: list[tuple[str, int]] = []  # each piece's keyed text and first character
        self.tables: dict[int, list[int]] = {}
        self.size = 0

    def add(self, keyed: str, first: int) -> None:
        self.starts.append(self.size)
        self.pieces.append((keyed, first))
        self.size += len(keyed)

    def character(self, byte: int) -> int:
        number = bisect.bisect_right(self.starts, byte) - 1
        table = self.tables.get(number)
        if table is None:
            keyed, first = self.pieces[number]
            table = self.tables[number] = [
                first + index
                for index, char in enumerate(keyed.encode("latin-1").decode("utf-8"))
                for _ in range(len(char.encode("utf-8")))
            ]
        return table[byte - self.starts[number]]


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
