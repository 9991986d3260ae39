"""FAQ retrieval: BM25 over each entry's question and phrasings, plus its answer weighted lower.

Ranking uses the BM25 score. Whether the best hit answers the question at all is decided by a
separate *confidence*: the share of the question's words (weighted by how rare they are in the
knowledge base) that the entry's question and phrasings contain. BM25 scores grow with the
length of the question and the size of the base, so they make a poor threshold; the confidence
is between 0 and 1 whatever the base.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import bm25s
import numpy as np

from gateway.knowledge.entries import Entry, KnowledgeBase
from gateway.knowledge.tokenize import tokens


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    score: float
    #: Between 0 and 1; see the module's docstring.
    confidence: float


class _Field:
    """One BM25 index over one text per entry.

    Texts are turned into integer word ids one at a time, so that building the index of a
    large base never holds every entry's words as strings at once."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.vocabulary: dict[str, int] = {}
        documents = [self._ids(tokens(text)) for text in texts]
        self.bm25 = bm25s.BM25()
        self.bm25.index((documents, self.vocabulary), show_progress=False)
        self.document_frequency = np.diff(self.bm25.scores["indptr"])

    def _ids(self, words: list[str]) -> array[int]:
        vocabulary = self.vocabulary
        return array("i", [vocabulary.setdefault(word, len(vocabulary)) for word in words])

    def scores(self, words: list[str]) -> np.ndarray | None:
        known = [self.vocabulary[word] for word in words if word in self.vocabulary]
        if not known:
            return None
        return self.bm25.get_scores_from_ids(known)

    def idf(self, word: str, documents: int) -> float:
        position = self.vocabulary.get(word)
        frequency = 0 if position is None else int(self.document_frequency[position])
        return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))


class FaqIndex:
    def __init__(self, knowledge: KnowledgeBase) -> None:
        self.knowledge = knowledge
        self.entries = knowledge.entries
        self._questions = _Field(_question_text(entry) for entry in self.entries)
        self._answers = _Field(entry.answer for entry in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, text: str, limit: int = 5, answer_weight: float = 0.3) -> list[Hit]:
        """The best entries for ``text``, best first; empty when no word of it is known.

        Words found in an entry's answer count ``answer_weight`` times as much as words found
        in its question and phrasings."""
        words = tokens(text)
        if not words:
            return []
        combined = self._questions.scores(words)
        from_answers = self._answers.scores(words)
        if from_answers is not None:
            weighted = answer_weight * from_answers
            combined = weighted if combined is None else combined + weighted
        if combined is None:
            return []
        limit = min(limit, len(self.entries))
        best = np.argpartition(-combined, limit - 1)[:limit]
        best = best[np.argsort(-combined[best], kind="stable")]
        return [
            Hit(self.entries[i], float(combined[i]), self._confidence(words, int(i)))
            for i in best
            if combined[i] > 0
        ]

    def coverage(self, text: str, entry: Entry) -> float:
        """How much of ``entry``'s question ``text`` says: the rarity-weighted share of the
        words of the entry's question, or of its closest phrasing, found in ``text`` (0–1).

        The confidence of a hit measures the reverse, how much of the question the entry
        covers. A follow-up such as 需要什么材料 is fully covered by many entries yet names
        none of their topics: its coverage is low."""
        words = set(tokens(text))
        phrasings = (entry.question, *entry.phrasings)
        return max(self._found_share(set(tokens(phrasing)), words) for phrasing in phrasings)

    def _confidence(self, words: list[str], position: int) -> float:
        # Words are recomputed for the few hits rather than kept for every entry, which would
        # cost more memory than the index itself on a large base.
        entry_words = set(tokens(_question_text(self.entries[position])))
        unique = set(words)
        return self._found_share(unique, {word for word in unique if word in entry_words})

    def _found_share(self, words: set[str], found: set[str]) -> float:
        """The rarity-weighted share of ``words`` that are in ``found`` or made of its words."""
        documents = len(self.entries)
        total = matched = 0.0
        for word in words:
            weight = self._questions.idf(word, documents)
            total += weight
            if word in found or _composed_of(word, found):
                matched += weight
        return matched / total if total else 0.0


def _composed_of(word: str, parts: set[str]) -> bool:
    """Whether shorter matched words cover every character of ``word``: 社保卡补办 counts as
    found in an entry that says 补办社保卡."""
    covered = [False] * len(word)
    for part in parts:
        if len(part) < len(word):
            start = word.find(part)
            while start != -1:
                covered[start : start + len(part)] = [True] * len(part)
                start = word.find(part, start + 1)
    return all(covered)


def _question_text(entry: Entry) -> str:
    return " ".join([entry.question, *entry.phrasings])
