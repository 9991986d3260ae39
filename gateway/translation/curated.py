"""Curated translations from the knowledge base, preferred to machine translation.

An entry's ``translations`` hold its question and answer written by people in other languages.
They serve twice: a foreign question that closely matches a curated question is taken as that
entry's Chinese question (a translation memory, which works with no engine at all), and an
answer from an entry with a curated translation is shown in that translation.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import anyio.to_thread

from gateway.knowledge.entries import Entry, KnowledgeBase, Translation
from gateway.knowledge.tokenize import tokens
from gateway.services import Services
from gateway.translation.base import language_of


def translation_for(entry: Entry, language: str) -> Translation | None:
    """The entry's curated translation into ``language`` (``en`` matches ``en`` or ``en-GB``)."""
    if language in entry.translations:
        return entry.translations[language]
    for code, translation in entry.translations.items():
        if language_of(code) == language:
            return translation
    return None


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    #: How alike the two questions are, 0–1: the harmonic mean of the share of the resident's
    #: words found in the curated question and of the curated question's words in theirs,
    #: each weighted by how rare the word is.
    similarity: float


class _Memory:
    """The curated questions of one language, searchable by their words."""

    def __init__(self, pairs: list[tuple[Entry, str]]) -> None:
        self.entries = [entry for entry, _ in pairs]
        self.words = [set(tokens(question)) for _, question in pairs]
        frequency: Counter[str] = Counter(word for words in self.words for word in words)
        total = len(pairs)
        self.idf = {word: math.log(1 + (total + 0.5) / (n + 0.5)) for word, n in frequency.items()}
        self.postings: dict[str, list[int]] = defaultdict(list)
        for position, words in enumerate(self.words):
            for word in words:
                self.postings[word].append(position)

    def best(self, text: str) -> Match | None:
        asked = set(tokens(text))
        candidates = {position for word in asked for position in self.postings.get(word, ())}
        if not candidates:
            return None
        rare = max(self.idf.values(), default=1.0)
        asked_weight = sum(self.idf.get(word, rare) for word in asked)
        best: Match | None = None
        for position in candidates:
            words = self.words[position]
            shared = sum(self.idf[word] for word in asked & words)
            found = shared / asked_weight
            covered = shared / sum(self.idf[word] for word in words)
            similarity = 2 * found * covered / (found + covered) if shared else 0.0
            if best is None or similarity > best.similarity:
                best = Match(self.entries[position], round(similarity, 3))
        return best


class CuratedTranslations:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._memories: dict[str, _Memory | None] = {}
        self._by_question: dict[str, Entry] | None = None
        self._generation = services.generation

    async def knowledge(self) -> KnowledgeBase:
        return await self.services.knowledge()

    def _forget_if_reloaded(self) -> None:
        if self._generation != self.services.generation:
            self._memories, self._by_question = {}, None
            self._generation = self.services.generation

    async def entry(self, entry_id: str | None, language: str) -> tuple[Entry, Translation] | None:
        if not entry_id:
            return None
        entry = (await self.knowledge()).by_id.get(entry_id)
        translation = translation_for(entry, language) if entry else None
        return (entry, translation) if entry and translation else None

    async def match(self, text: str, language: str) -> Match | None:
        """The entry whose curated ``language`` question is most like ``text``."""
        self._forget_if_reloaded()
        if language not in self._memories:
            knowledge = await self.knowledge()
            pairs = [
                (entry, translation.question)
                for entry in knowledge.entries
                if (translation := translation_for(entry, language)) is not None
            ]
            self._memories[language] = (
                await anyio.to_thread.run_sync(_Memory, pairs) if pairs else None
            )
        memory = self._memories[language]
        return memory.best(text) if memory else None

    async def questions(self, chinese: list[str], language: str) -> list[str | None]:
        """The curated ``language`` question of each entry question in ``chinese``, or None."""
        self._forget_if_reloaded()
        if self._by_question is None:
            knowledge = await self.knowledge()
            self._by_question = {entry.question: entry for entry in knowledge.entries}
        by_question = self._by_question
        result: list[str | None] = []
        for question in chinese:
            entry = by_question.get(question)
            translation = translation_for(entry, language) if entry else None
            result.append(translation.question if translation else None)
        return result
