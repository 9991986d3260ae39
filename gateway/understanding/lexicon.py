"""The words the understanding stages know: jieba's frequency dictionary, the curated government
terms (gateway/data/terms.tsv) and the knowledge base's own words, with their pinyin.

Built once per process (``base_lexicon()``, about half a second) and shared by the stages; a
pipeline adds its knowledge base's words on top (``Lexicon.with_knowledge``) without copying
the shared part.
Pinyin is toneless and written with ``v`` for ü (``lv``, ``nve``), as pypinyin's NORMAL style.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import jieba
from pypinyin import phrases_dict, pinyin_dict

from gateway.knowledge.tokenize import data_lines, government_terms, tokens

#: Frequency a curated term counts as per point of its weight (1-5) in terms.tsv, so a
#: common term outweighs the chance spellings jieba's dictionary also knows.
TERM_FREQUENCY = 400
#: Frequency of a question frame (gateway/data/phrases.txt: 怎么办, 在哪里领).
PHRASE_FREQUENCY = 2000
#: Frequency of a word of the knowledge base's questions that is not a curated term.
KNOWLEDGE_FREQUENCY = 300
#: Weight of the knowledge base's character pairs against single-word frequencies.
COHESION = 1.0
#: Length from which words are few (7,000 of jieba's 350,000): the stages look words this long
#: up only after a stem one of them starts with (``long_word_stems``).
LONG_WORD = 5


def data_rows(name: str) -> list[list[str]]:
    return [line.split("\t") for line in data_lines(name)]


def is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x323AF
        or 0xF900 <= code <= 0xFAFF
    )


def toneless(syllable: str) -> str:
    """``lǜ`` → ``lv``, ``xíng`` → ``xing``."""
    decomposed = unicodedata.normalize("NFD", syllable.lower())
    out = []
    for char in decomposed:
        if char == "\u0308":  # diaeresis: ü
            if out and out[-1] == "u":
                out[-1] = "v"
        elif not unicodedata.combining(char):
            out.append(char)
    return "".join(out).replace("ü", "v")


# Fuzzy pinyin: the pairs southern speakers and pinyin typists confuse, folded to one form.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"), ("r", "l"))
_FUZZY_FINALS = (
    ("iang", "ian"),
    ("uang", "uan"),
    ("ang", "an"),
    ("eng", "en"),
    ("ing", "in"),
)


@cache
def fuzzy(syllable: str) -> str:
    """The syllable with z/zh, c/ch, s/sh, n/l, f/h, r/l, an/ang, en/eng, in/ing, ian/iang and
    uan/uang folded together: ``zheng`` and ``zen`` both become ``zen``."""
    for long, short in _FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _FUZZY_FINALS:
        if syllable.endswith(long):
            return syllable[: -len(long)] + short
    return syllable


@dataclass(slots=True)
class Lexicon:
    """Word frequencies with the domain terms boosted; every lookup the stages need."""

    frequency: dict[str, int]
    total: float
    #: Curated and knowledge-base words: the words typo correction corrects towards.
    domain: frozenset[str]
    #: Toneless readings of each character, the most common first.
    readings: dict[str, tuple[str, ...]]
    #: Toneless pinyin of the words that have a reading of their own (银行 → yin hang).
    phrase_readings: dict[str, tuple[str, ...]]
    max_word_length: int = 8
    #: The knowledge base's words that jieba's dictionary lacks or rates lower.
    extra: dict[str, int] = field(default_factory=dict)
    #: How often each pair of characters follows each other in the knowledge base's text: what
    #: residents of this service ask about (怎么交, 在哪办) beyond single-word frequencies.
    bigrams: dict[str, int] = field(default_factory=dict)
    #: The curated terms (terms.tsv and the glossary's Chinese names): no stage alters them.
    protected: frozenset[str] = frozenset()
    #: The words residents use when they ask this service: curated terms, question frames and
    #: the words of the knowledge base's questions and phrasings (not of its answers, which
    #: speak every kind of Chinese). Correcting towards anything else asks for more evidence.
    service: frozenset[str] = frozenset()
    #: The knowledge base's own text, one piece a line: a stretch of a question found in it
    #: verbatim is written the way the service writes it, not a slip.
    attested: str = ""
    #: Indexes the stages build from this lexicon, built once and shared (``derived``).
    _derived: dict[str, Any] = field(default_factory=dict)

    def derived(self, name: str, build: Callable[[Lexicon], Any]) -> Any:
        """``build(self)``, built on first use and shared by every stage that asks by ``name``."""
        if name not in self._derived:
            self._derived[name] = build(self)
        return self._derived[name]

    def freq(self, word: str) -> int:
        return self.extra.get(word) or self.frequency.get(word, 0)

    def pinyin(self, word: str) -> tuple[str, ...] | None:
        """The word's toneless pinyin, one syllable per character; None if a character has none."""
        known = self.phrase_readings.get(word)
        if known is not None:
            return known
        syllables = []
        for char in word:
            readings = self.readings.get(char)
            if not readings:
                return None
            syllables.append(readings[0])
        return tuple(syllables)

    def words(self, minimum_frequency: int = 1) -> Iterator[tuple[str, int]]:
        for word, count in self.frequency.items():
            if count >= minimum_frequency and word not in self.extra:
                yield word, count
        yield from self.extra.items()

    def cohesion(self, previous: str, following: str) -> float:
        """A bonus, in nats, for ``following`` right after ``previous`` (one character each)."""
        count = self.bigrams.get(previous + following)
        return COHESION * math.log1p(count) if count else 0.0

    def with_knowledge(self, texts: Iterable[str], questions: Iterable[str] = ()) -> Lexicon:
        """This lexicon plus the words and character pairs of the knowledge base's ``texts``;
        the words of its ``questions`` (and phrasings) join the service vocabulary."""
        extra = dict(self.extra)
        bigrams = Counter(self.bigrams)
        added = set()
        kept = []
        for text in texts:
            kept.append(text)
            for word in tokens(text):
                if len(word) >= 2 and all(is_han(char) for char in word):
                    extra[word] = max(self.freq(word), KNOWLEDGE_FREQUENCY)
                    added.add(word)
            bigrams.update(a + b for a, b in pairwise(text) if is_han(a) and is_han(b))
        asked = set()
        for question in questions:
            kept.append(question)
            asked.update(w for w in tokens(question) if len(w) >= 2 and all(map(is_han, w)))
        return Lexicon(
            frequency=self.frequency,
            total=self.total,
            domain=self.domain | added,
            readings=self.readings,
            phrase_readings=self.phrase_readings,
            max_word_length=max(self.max_word_length, *(len(t) for t in added)),
            extra=extra,
            bigrams=dict(bigrams),
            protected=self.protected,
            service=self.service | asked,
            attested="\n".join(dict.fromkeys(filter(None, [self.attested, *kept]))),
        )


def long_word_stems(lexicon: Lexicon) -> frozenset[str]:
    """The first ``LONG_WORD - 1`` characters of every word of ``LONG_WORD`` characters or more
    (share it: ``lexicon.derived("long_word_stems", long_word_stems)``)."""
    return frozenset(
        word[: LONG_WORD - 1]
        for source in (lexicon.frequency, lexicon.extra)
        for word in source
        if len(word) >= LONG_WORD
    )


def jieba_dictionary() -> Path:
    return Path(jieba.__file__).parent / "dict.txt"


@cache
def character_readings() -> dict[str, tuple[str, ...]]:
    readings = {}
    for code, value in pinyin_dict.pinyin_dict.items():
        unique = dict.fromkeys(toneless(reading) for reading in value.split(","))
        readings[chr(code)] = tuple(unique)
    return readings


@cache
def base_lexicon() -> Lexicon:
    """jieba's dictionary plus the curated government terms, built once per process."""
    frequency: dict[str, int] = {}
    with jieba_dictionary().open(encoding="utf-8") as lines:
        for line in lines:
            word, count, _ = line.split(" ")
            frequency[word] = int(count)
    total = float(sum(frequency.values()))
    for word, count in data_rows("words.tsv"):
        frequency[word] = max(frequency.get(word, 0), int(count))
    for line in data_lines("phrases.txt"):
        for phrase in line.split():
            frequency[phrase] = max(frequency.get(phrase, 0), PHRASE_FREQUENCY)
    weights = {row[0]: int(row[2]) for row in data_rows("terms.tsv")}
    for term in government_terms():
        frequency[term] = max(frequency.get(term, 0), TERM_FREQUENCY * weights[term])
    for term in glossary_terms():
        frequency[term] = max(frequency.get(term, 0), TERM_FREQUENCY)
    frames = {phrase for line in data_lines("phrases.txt") for phrase in line.split()}
    curated = frozenset(government_terms()) | glossary_terms()
    phrase_readings = {}
    for phrase, syllables in phrases_dict.phrases_dict.items():
        if len(phrase) == len(syllables):
            phrase_readings[phrase] = tuple(toneless(options[0]) for options in syllables)
    return Lexicon(
        frequency=frequency,
        total=total,
        domain=curated,
        readings=character_readings(),
        phrase_readings=phrase_readings,
        protected=curated,
        service=curated | frames,
    )


@cache
def glossary_terms() -> frozenset[str]:
    """The Chinese names of the translation glossary (gateway/data/glossary.tsv), every
    variant: official names a resident copies from a notice."""
    rows = data_rows("glossary.tsv")
    column = rows[0].index("zh")
    return frozenset(
        name
        for row in rows[1:]
        for name in row[column].split("|")
        if len(name) >= 2 and all(is_han(char) for char in name)
    )
