"""Cantonese → Mandarin: written Cantonese (佢喺邊度攞咗) becomes the Mandarin the back ends
read (他在哪里领了), by the curated word map in gateway/data/cantonese.tsv.

The map is applied to Simplified text (the script stage runs first) by longest match. A
Mandarin word of jieba's dictionary that starts at the same place and is longer than the
longest Cantonese match is kept whole, so 关系 stays although 系 (係) alone is 是.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from gateway.understanding.base import Analysis, Correction, Stage
from gateway.understanding.lexicon import Lexicon, base_lexicon, data_rows
from gateway.understanding.script import converter

#: Total weight of the Cantonese words in a question from which it counts as Cantonese.
CANTONESE_WEIGHT = 1.0


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
        """The Cantonese words of ``text`` (Simplified script), left to right."""
        if not self._any.search(text):
            return []
        found = []
        frequency = self.lexicon.frequency
        size = len(text)
        position = 0
        while position < size:
            key_length = 0
            for length in range(min(self.longest, size - position), 0, -1):
                if text[position : position + length] in self.entries:
                    key_length = length
                    break
            word_length = 0
            for length in range(min(self.lexicon.max_word_length, size - position), 1, -1):
                word = text[position : position + length]
                if word in frequency and not self.markers.intersection(word):
                    word_length = length
                    break
            if key_length and key_length >= word_length:
                key = text[position : position + key_length]
                mandarin, weight = self.entries[key]
                found.append(Match(position, position + key_length, key, mandarin, weight))
                position += key_length
            else:
                position += max(word_length, 1)
        return found

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
