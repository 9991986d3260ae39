"""Pinyin → characters: residents who cannot pick characters type the pinyin instead
(``shebao zenme jiao``, ``shebaozenmejiao``, ``xi'an``, ``lv4 shi1``, ``shè bǎo``).

The Latin text is cut into syllables every way it can be (spaces and apostrophes are syllable
boundaries, not word boundaries), the words of the lexicon whose pinyin matches a run of
syllables form a lattice, and a Viterbi search keeps the two most probable sentences under
jieba's word frequencies, with the government and knowledge-base terms boosted. Tones are read
and dropped: an input method does the same.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from gateway.understanding.base import Analysis, Correction, Stage
from gateway.understanding.lexicon import Lexicon, base_lexicon, toneless

#: Words kept per pinyin key: a single syllable has many common characters, and the one the
#: context wants may be the fifth most frequent alone (jiao: 叫 教 较 觉 交).
KEEP_PER_SYLLABLE = 8
KEEP_PER_KEY = 3
#: Sentences kept per position of the Viterbi search: the best, and the alternative.
KEEP_PATHS = 2
#: Syllables of the longest word looked up.
MAX_WORD_SYLLABLES = 8
#: Words rarer than this in jieba's dictionary are left out of the pinyin index: they are
#: mostly rare spellings that would beat a common word with the same sound.
MIN_WORD_FREQUENCY = 10

_TOKEN = re.compile(r"[a-zA-Z\u00c0-\u024f\u0300-\u036f:]+[1-5]?|\d+|\s+|'|’|-|[^\sa-zA-Z\d'’-]+")
_VOWEL = re.compile("[aeiouv]")


@cache
def syllables() -> frozenset[str]:
    """Every toneless syllable pypinyin knows, without the vowel-less interjections (m, ng)."""
    lexicon = base_lexicon()
    return frozenset(
        reading
        for readings in lexicon.readings.values()
        for reading in readings
        if _VOWEL.search(reading) and reading.isascii() and reading.isalpha()
    )


@cache
def spellings() -> dict[str, tuple[str, ...]]:
    """What a typed syllable may stand for: itself, and ü typed as u or v (lu → lu, lv)."""
    known = syllables()
    table: dict[str, tuple[str, ...]] = {syllable: (syllable,) for syllable in known}
    for syllable in known:
        if "v" in syllable:
            if syllable[0] in "jqxy":  # ju is jü: some type jv
                table.setdefault(syllable, (syllable.replace("v", "u"),))
            else:  # lü typed lu: both readings
                typed = syllable.replace("v", "u")
                table[typed] = (*table.get(typed, ()), syllable)
        if syllable[0] in "jqxy" and "u" in syllable:
            table.setdefault(syllable.replace("u", "v"), (syllable,))
    return table


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of the input: letters to convert (with forced syllable boundaries), or a literal."""

    letters: str
    boundaries: frozenset[int] = frozenset()
    literal: str = ""
    toned: bool = False


def split(text: str) -> list[Piece] | None:
    """The input as pieces, or None when it contains anything but Latin letters, tone marks and
    numbers, digits, spaces, apostrophes and punctuation."""
    pieces: list[Piece] = []
    letters: list[str] = []
    boundaries: set[int] = set()
    toned = False
    length = 0

    def close() -> None:
        nonlocal letters, boundaries, length, toned
        if letters:
            pieces.append(Piece("".join(letters), frozenset(boundaries), toned=toned))
        letters, boundaries, length, toned = [], set(), 0, False

    for token in _TOKEN.findall(text):
        first = token[0]
        if first.isspace() or token in {"'", "’", "-"}:
            boundaries.add(length)
            continue
        if first.isdigit():
            close()
            pieces.append(Piece("", literal=token))
            continue
        plain = toneless(token.replace("u:", "v").replace("U:", "v"))
        if plain[-1:].isdigit():
            toned = True
            plain = plain[:-1]
        if not plain or not plain.isascii() or not plain.isalpha():
            if any(char.isalpha() for char in token):
                return None
            close()
            pieces.append(Piece("", literal=token))
            continue
        toned = toned or plain != token.lower()
        boundaries.add(length)
        letters.append(plain)
        length += len(plain)
    close()
    return pieces


@dataclass(frozen=True, slots=True)
class Conversion:
    text: str
    alternative: str | None
    syllables: int
    #: Mean log probability per syllable of the best sentence: how much it reads like Chinese.
    score: float
    toned: bool


class PinyinIndex:
    """Words by toneless pinyin (``"she bao"``) with their log probabilities, the most probable
    first."""

    def __init__(self, lexicon: Lexicon, words: Iterable[tuple[str, int]]) -> None:
        self.words: dict[str, list[tuple[float, str]]] = {}
        self.prefixes: set[str] = set()
        readings = lexicon.readings
        log_total = math.log(lexicon.total)
        for word, count in words:
            if len(word) > MAX_WORD_SYLLABLES:
                continue
            if len(word) == 1:
                # A character's first reading is its usual one; the others are rarer.
                for rank, reading in enumerate(readings.get(word, ())):
                    self._add((reading,), word, math.log(count / (1 + 4 * rank)) - log_total)
                continue
            syllable_list = lexicon.pinyin(word)
            if syllable_list is not None:
                self._add(syllable_list, word, math.log(count) - log_total)

    def _add(self, syllable_list: tuple[str, ...], word: str, log_probability: float) -> None:
        key = " ".join(syllable_list)
        entries = self.words.setdefault(key, [])
        for index, (_, known) in enumerate(entries):
            if known == word:
                if log_probability > entries[index][0]:
                    entries[index] = (log_probability, word)
                    entries.sort(reverse=True)
                return
        entries.append((log_probability, word))
        entries.sort(reverse=True)
        del entries[KEEP_PER_SYLLABLE if len(syllable_list) == 1 else KEEP_PER_KEY :]
        for end in range(1, len(syllable_list)):
            self.prefixes.add(" ".join(syllable_list[:end]))

    def plus(self, other: PinyinIndex) -> PinyinIndex:
        """Both indexes in one; the shared base is copied, not changed."""
        merged = object.__new__(PinyinIndex)
        merged.words = dict(self.words)
        for key, entries in other.words.items():
            known = dict((word, score) for score, word in merged.words.get(key, ()))
            for score, word in entries:
                known[word] = max(score, known.get(word, -math.inf))
            merged.words[key] = sorted(
                ((score, word) for word, score in known.items()), reverse=True
            )
        merged.prefixes = self.prefixes | other.prefixes
        return merged


@cache
def _base_index() -> PinyinIndex:
    lexicon = base_lexicon()
    return PinyinIndex(lexicon, lexicon.words(MIN_WORD_FREQUENCY))


def index_for(lexicon: Lexicon) -> PinyinIndex:
    """The shared index of jieba's words, plus the knowledge base's words when it has any."""
    if not lexicon.extra:
        return _base_index()
    return lexicon.derived(
        "pinyin", lambda known: _base_index().plus(PinyinIndex(known, known.extra.items()))
    )


class Decoder:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.index = index_for(lexicon)
        self.spellings = spellings()
        self.longest = max(len(typed) for typed in self.spellings)
        # ``Lexicon.cohesion`` of every pair it gives a bonus, looked up rather than worked out
        # for every pair of words the search tries (the same floats).
        self.cohesion: dict[str, float] = lexicon.derived(
            "cohesion",
            lambda known: {
                pair: known.cohesion(pair[0], pair[1]) for pair in known.bigrams if len(pair) == 2
            },
        )

    def syllable_edges(self, piece: Piece) -> list[list[tuple[str, int]]]:
        """For each letter position, the syllables that may start there and where they end."""
        letters = piece.letters
        size = len(letters)
        edges: list[list[tuple[str, int]]] = [[] for _ in range(size)]
        limit = size
        for start in range(size - 1, -1, -1):
            # No syllable crosses a space or an apostrophe.
            for end in range(start + 1, min(limit, start + self.longest) + 1):
                for syllable in self.spellings.get(letters[start:end], ()):
                    edges[start].append((syllable, end))
            if start in piece.boundaries:
                limit = start
        return edges

    def decode_piece(self, piece: Piece) -> tuple[list[tuple[float, str]], int] | None:
        """The two best conversions of a run of letters, and its syllable count; None when the
        letters are not pinyin."""
        letters = piece.letters
        size = len(letters)
        edges = self.syllable_edges(piece)
        cohesion = self.cohesion.get
        lookup, prefixes = self.index.words.get, self.index.prefixes
        # best[position]: up to two (score, text, syllables) ending there.
        best: list[list[tuple[float, str, int]]] = [[] for _ in range(size + 1)]
        best[0] = [(0.0, "", 0)]
        for start in range(size):
            if not best[start]:
                continue
            # Walk syllable chains from here, looking words up as the chain grows.
            stack = [(start, "", 0)]
            while stack:
                position, key, count = stack.pop()
                for syllable, end in edges[position] if position < size else ():
                    chain = f"{key} {syllable}" if key else syllable
                    words = lookup(chain, ())
                    for log_probability, word in words:
                        for score, text, syllable_count in best[start]:
                            bonus = cohesion(text[-1] + word[0], 0.0) if text else 0.0
                            _keep(
                                best[end],
                                (
                                    score + log_probability + bonus,
                                    text + word,
                                    syllable_count + count + 1,
                                ),
                            )
                    if count + 1 < MAX_WORD_SYLLABLES and chain in prefixes:
                        stack.append((end, chain, count + 1))
        if not best[size]:
            return None
        results = [(score, text) for score, text, _ in best[size]]
        return results, best[size][0][2]

    def convert(self, text: str) -> Conversion | None:
        pieces = split(text)
        if not pieces or not any(piece.letters for piece in pieces):
            return None
        first: list[str] = []
        second: list[str] | None = None
        total_score = 0.0
        total_syllables = 0
        second_gap = math.inf
        for piece in pieces:
            if not piece.letters:
                first.append(piece.literal)
                continue
            decoded = self.decode_piece(piece)
            if decoded is None:
                return None
            results, count = decoded
            total_score += results[0][0]
            total_syllables += count
            first.append(results[0][1])
            if len(results) > 1 and results[0][0] - results[1][0] < second_gap:
                second_gap = results[0][0] - results[1][0]
                second = [*first[:-1], results[1][1]]
                second_index = len(first) - 1
        alternative = None
        if second is not None:
            merged = list(first)
            merged[second_index] = second[-1]
            alternative = "".join(merged)
        return Conversion(
            text="".join(first),
            alternative=alternative,
            syllables=total_syllables,
            score=total_score / max(total_syllables, 1),
            toned=any(piece.toned for piece in pieces),
        )


def _keep(slot: list[tuple[float, str, int]], candidate: tuple[float, str, int]) -> None:
    """Keep ``candidate`` in ``slot`` if it is among the ``KEEP_PATHS`` best, best first.

    The slot is always sorted, and no two of its sentences have the same text, so no two
    entries compare equal: putting the candidate in its place and cutting the tail keeps
    exactly what sorting and taking the best would, without building a heap every time."""
    text = candidate[1]
    for kept in slot:
        if kept[1] == text:
            return
    place = 0
    while place < len(slot) and slot[place] > candidate:
        place += 1
    if place < KEEP_PATHS:
        slot.insert(place, candidate)
        del slot[KEEP_PATHS:]


class Pinyin(Stage):
    """Turn a question identified as pinyin into characters."""

    name = "pinyin"
    corrective = True
    uses_lexicon = True

    def learn(self, lexicon: Lexicon) -> None:
        self.decoder = Decoder(lexicon)

    def apply(self, analysis: Analysis) -> None:
        if analysis.language != "pinyin":
            return
        conversion = analysis.notes.get("pinyin") or self.decoder.convert(analysis.text)
        if conversion is None:
            return
        before = analysis.text
        analysis.update(self.name, conversion.text, "pinyin typed for Chinese characters")
        analysis.corrections.append(
            Correction(
                stage=self.name,
                original=before,
                replacement=conversion.text,
                start=0,
                end=len(before),
                reason="pinyin",
                alternative=conversion.alternative,
            )
        )
