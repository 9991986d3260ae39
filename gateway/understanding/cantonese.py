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
from gateway.understanding.lexicon import Lexicon, base_lexicon, data_rows
from gateway.understanding.script import converter

#: Total weight of the Cantonese words in a question from which it counts as Cantonese.
CANTONESE_WEIGHT = 1.0
#: How often a Cantonese word counts as occurring, on jieba's scale, when the question is read
#: as a mix of Mandarin and Cantonese words: as often as a common word (办理 2142, 怎么 27339),
#: so 点样 beats the rare 问点 + 样, while 关系 still beats 关 + 系.
CANTONESE_FREQUENCY = 10_000


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

    def matches(self, text: str) -> list[Match]:
        """The Cantonese words of ``text`` (Simplified script), left to right: the Cantonese
        entries on the most probable reading of ``text`` as Mandarin and Cantonese words."""
        if not self._any.search(text):
            return []
        frequency, markers, entries = self.lexicon.frequency, self.markers, self.entries
        log_total = math.log(self.lexicon.total)
        longest = max(self.longest, self.lexicon.max_word_length)
        size = len(text)
        best = [0.0] + [-math.inf] * size
        back: list[tuple[int, bool]] = [(0, False)] * (size + 1)
        for end in range(1, size + 1):
            for start in range(max(0, end - longest), end):
                if best[start] == -math.inf:
                    continue
                word = text[start:end]
                cantonese = word in entries
                if cantonese:
                    count = CANTONESE_FREQUENCY
                elif word in frequency and (len(word) == 1 or not markers.intersection(word)):
                    count = frequency[word]
                elif end - start == 1:
                    count = 1
                else:
                    continue
                score = best[start] + math.log(count) - log_total
                if score > best[end]:
                    best[end] = score
                    back[end] = (start, cantonese)
        found = []
        end = size
        while end > 0:
            start, cantonese = back[end]
            if cantonese:
                key = text[start:end]
                mandarin, weight = entries[key]
                found.append(Match(start, end, key, mandarin, weight))
            end = start
        return found[::-1]

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

    def apply(self, analysis: Analysis) -> None:
        if analysis.language != "yue":
            return
        translated, matches = cantonese_map().translate(analysis.text)
        analysis.update(self.name, translated, "Cantonese words to Mandarin")
        analysis.corrections += (
            Correction(self.name, m.cantonese, m.mandarin, m.start, m.end, "cantonese")
            for m in matches
        )
