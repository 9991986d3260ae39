"""Cantonese → Mandarin: written Cantonese (佢喺邊度攞咗) becomes the Mandarin the back ends
read (他在哪里领了), by the curated word map in gateway/data/cantonese.tsv.

The map is applied to Simplified text (the script stage runs first): the question is read as
the most probable sequence of Mandarin words (jieba's dictionary) and Cantonese words, and the
Cantonese ones are replaced, so 关系 stays although 系 (係) alone is 是, and 点样 is found in
问点样 although jieba knows a rare word 问点.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from gateway.understanding.base import Analysis, Correction, Stage
from gateway.understanding.lexicon import (
    LONG_WORD,
    Lexicon,
    base_lexicon,
    data_rows,
    long_word_stems,
)
from gateway.understanding.script import converter

#: Total weight of the Cantonese words in a question from which it counts as Cantonese.
CANTONESE_WEIGHT = 1.0
#: How often a Cantonese word counts as occurring, on jieba's scale, when the question is read
#: as a mix of Mandarin and Cantonese words: as often as a common word (办理 2142, 怎么 27339),
#: so 点样 beats the rare 问点 + 样, while 关系 still beats 关 + 系.
CANTONESE_FREQUENCY = 10_000
#: A Cantonese word with no Cantonese-only character (点补, 生果) read where its first or last
#: character makes a Mandarin word this common with the character beside it (重点查, 花生果,
#: 发点补贴: 补贴 586) is taken for the Mandarin: the word map's own entries are words of both
#: languages. Was 1000 until the third fresh set's 发点补贴 (and 花生果 in the clean measure).
CUT_WORD_FREQUENCY = 500


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    cantonese: str
    mandarin: str
    weight: float


class CantoneseMap:
    def __init__(self, rows: list[list[str]], lexicon: Lexicon) -> None:
        simplify = converter("hk2s").convert
        self.entries: dict[str, tuple[str, float]] = {}
        for cantonese, mandarin, weight in rows:
            self.entries[simplify(cantonese)] = (mandarin, float(weight))
        self.longest = max(len(key) for key in self.entries)
        keys = sorted(self.entries, key=len, reverse=True)
        self._any = re.compile("|".join(re.escape(key) for key in keys))
        # Characters only Cantonese writes: a Mandarin word containing one is no Mandarin word.
        self.markers = frozenset(
            key for key, (_, weight) in self.entries.items() if len(key) == 1 and weight >= 1
        )
        self.lexicon = lexicon
        self._longest_protected = max(map(len, lexicon.protected), default=0)
        self._last: tuple[str, tuple[Match, ...]] | None = None
        self.longest_word = max(self.longest, lexicon.max_word_length)
        self._long_word_stems = lexicon.derived("long_word_stems", long_word_stems) | {
            key[: LONG_WORD - 1] for key in self.entries if len(key) >= LONG_WORD
        }

    def matches(self, text: str) -> list[Match]:
        """The Cantonese words of ``text`` (Simplified script), left to right: the Cantonese
        entries on the most probable reading of ``text`` as Mandarin and Cantonese words."""
        # Identification weighs a question's Cantonese words, then the Cantonese stage replaces
        # them, mostly in the very same text: the last reading serves that second look.
        last = self._last
        if last is not None and last[0] == text:
            return list(last[1])
        found = self._read(text)
        self._last = (text, tuple(found))
        return found

    def forget(self) -> None:
        """Drop the last reading (benchmarks measure questions as if seen for the first time)."""
        self._last = None

    def _read(self, text: str) -> list[Match]:
        if not self._any.search(text):
            return []
        frequency, markers, entries = self.lexicon.frequency, self.markers, self.entries
        log, log_total = math.log, math.log(self.lexicon.total)
        cantonese_log = log(CANTONESE_FREQUENCY)
        size = len(text)
        best = [0.0] + [-math.inf] * size
        back: list[tuple[int, bool]] = [(0, False)] * (size + 1)
        # From each start to the ends its words reach: every end still hears from the starts
        # before it in order, so a tie keeps the earliest start, as reading end by end did.
        for start in range(size):
            here = best[start]
            if here == -math.inf:
                continue
            ahead = text[start : start + self.longest_word]
            # Words of LONG_WORD characters or more are rare: looked for only where one starts.
            reach = len(ahead) if ahead[: LONG_WORD - 1] in self._long_word_stems else LONG_WORD - 1
            for length in range(1, min(len(ahead), reach) + 1):
                word = ahead[:length]
                if word in entries:
                    cantonese, log_count = True, cantonese_log
                elif word in frequency and (length == 1 or not markers.intersection(word)):
                    cantonese, log_count = False, log(frequency[word])
                elif length == 1:
                    cantonese, log_count = False, log(1)
                else:
                    continue
                end = start + length
                score = here + log_count - log_total
                if score > best[end]:
                    best[end] = score
                    back[end] = (start, cantonese)
        found = []
        end = size
        fixed = self._protected_positions(text)
        while end > 0:
            start, cantonese = back[end]
            if (
                cantonese
                and not any(fixed[start:end])
                and not self._cuts_word(text, start, end, fixed)
            ):
                key = text[start:end]
                mandarin, weight = entries[key]
                found.append(Match(start, end, key, mandarin, weight))
            end = start
        return found[::-1]

    def _protected_positions(self, text: str) -> list[bool]:
        """The characters of ``text`` in a curated term (劳动仲裁): never read as Cantonese."""
        protected = self.lexicon.protected
        fixed = [False] * len(text)
        for start in range(len(text) - 1):
            for end in range(start + 2, min(len(text), start + self._longest_protected) + 1):
                if text[start:end] in protected:
                    fixed[start:end] = [True] * (end - start)
        return fixed

    def _cuts_word(self, text: str, start: int, end: int, fixed: list[bool]) -> bool:
        """Whether the Cantonese word ``text[start:end]``, holding no Cantonese-only character,
        breaks a common Mandarin word at either edge. A neighbour that belongs to a curated
        term makes no such word: 点办公积金 is 点办 + 公积金, not 点 + 办公."""
        if end - start < 2 or self.markers.intersection(text[start:end]):
            return False
        frequency = self.lexicon.frequency
        edges = []
        if start and not fixed[start - 1]:
            edges.append(text[start - 1 : start + 1])
        if end < len(text) and not fixed[end]:
            edges.append(text[end - 1 : end + 1])
        return any(frequency.get(pair, 0) >= CUT_WORD_FREQUENCY for pair in edges)

    def weight(self, text: str) -> float:
        return sum(match.weight for match in self.matches(text))

    def translate(self, text: str) -> tuple[str, list[Match]]:
        matches = self.matches(text)
        parts = []
        position = 0
        for match in matches:
            parts += (text[position : match.start], match.mandarin)
            position = match.end
        parts.append(text[position:])
        return "".join(parts), matches


@cache
def cantonese_map() -> CantoneseMap:
    return CantoneseMap(data_rows("cantonese.tsv"), base_lexicon())


class Cantonese(Stage):
    """Translate a question identified as Cantonese (``yue``) into Mandarin."""

    name = "cantonese"

    def forget(self) -> None:
        """Drop remembered lookups (benchmarks measure questions as if seen for the first time)."""
        cantonese_map().forget()

    def apply(self, analysis: Analysis) -> None:
        if analysis.language != "yue":
            return
        translated, matches = cantonese_map().translate(analysis.text)
        analysis.update(self.name, translated, "Cantonese words to Mandarin")
        analysis.corrections += (
            Correction(self.name, m.cantonese, m.mandarin, m.start, m.end, "cantonese")
            for m in matches
        )
