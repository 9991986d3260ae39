"""FAQ retrieval, hybrid: BM25 over each entry's question and phrasings (plus its answer,
weighted lower), and dense vectors of a multilingual embedder (gateway/knowledge/embedding.py)
over the entries, their curated translations' questions and the documents' passages.

The two rankings are fused by reciprocal rank fusion: a Chinese question that names the
entry's words is found by BM25, a paraphrase or a question in any other language by meaning.
Whether the best hit answers the question at all is decided by a separate *confidence*
(0–1): the larger of the lexical one, the share of the question's words (weighted by how rare
they are in the base) that the entry's question and phrasings contain, and the dense one: how
far the entry's cosine similarity stands above the median similarity of the question to the
whole base, mapped linearly from ``dense_floor`` (0) to ``dense_ceiling`` (1). BM25 scores
grow with the question and the base, and e5 similarities crowd into 0.75–0.92 for any text,
so neither raw score makes a threshold. A question about nothing in the base (the weather) or
about no topic at all (需要多久, a follow-up) is about as alike to every entry: it stands out
from none.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import bm25s
import numpy as np

from gateway.knowledge import ann, vectors
from gateway.knowledge.documents import Passage
from gateway.knowledge.embedding import Embedder
from gateway.knowledge.entries import Entry, KnowledgeBase
from gateway.knowledge.tokenize import tokens

Mode = Literal["hybrid", "bm25", "dense"]
#: Reciprocal rank fusion's constant (Cormack et al. 2009): a hit ranked r adds 1 / (K + r).
RRF_K = 60
#: Hits of each ranking taken into the fusion.
CANDIDATES = 50
#: Fused hits ordered again by their confidence.
RERANKED = 10
#: The cosine similarities mapped to dense confidence 0 and 1, calibrated on the three
#: question sets of bench/data/ with multilingual-e5-small (docs/benchmarks.md).
DENSE_FLOOR = 0.022
DENSE_CEILING = 0.062
#: The same for :meth:`FaqIndex.coverage`, stricter: a topic-less follow-up (What documents do I
#: need?) stands out a little from the base, a question naming its topic much more. Moved
#: with the dense ones when an entry's similarity became the mean of two rows.
COVERAGE_FLOOR = 0.044
COVERAGE_CEILING = 0.094
#: Rows sampled to estimate the median similarity of a question to the base.
BASELINE_SAMPLE = 4096
#: Added to the similarity of the entries of the categories a search favours, a quarter of the
#: way from ``DENSE_FLOOR`` to ``DENSE_CEILING``: chosen on bench/data/retrieval_fresh4.tsv
#: (0.005, 0.01, 0.02), then measured on the four other sets (docs/benchmarks.md).
FAVOURED_BONUS = 0.01


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    score: float
    #: Between 0 and 1; see the module's docstring.
    confidence: float
    #: The entry's cosine similarity to the question above the question's median one (0
    #: without dense retrieval): compared with a passage's.
    similarity: float = 0.0


@dataclass(frozen=True, slots=True)
class PassageHit:
    passage: Passage
    #: The passage's cosine similarity to the question above the question's median one.
    score: float
    #: Dense confidence, 0–1, on the same scale as an entry's.
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

    def save(self, folder: Path) -> None:
        """Into ``folder`` by bm25s's own format (its vocabulary is this field's)."""
        self.bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, documents: int) -> _Field:
        """The field saved in ``folder``, its score arrays memory-mapped; ValueError when it
        does not index ``documents`` texts."""
        field = cls.__new__(cls)
        field.bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        field.vocabulary = field.bm25.vocab_dict
        if int(field.bm25.scores["num_docs"]) != documents:
            raise ValueError(
                f"{folder}: {field.bm25.scores['num_docs']} texts, {documents} expected"
            )
        field.document_frequency = np.diff(field.bm25.scores["indptr"])
        return field

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


@dataclass(frozen=True, slots=True)
class Parts:
    """What an index is made of, built (:class:`FaqIndex`) or read back from ``index_dir``
    (gateway/knowledge/persist.py)."""

    questions: _Field
    answers: _Field
    #: One row per dense text (see :func:`_dense_texts`), None without an embedder; read by
    #: position (ann.Rows) when opened kept with graphs.
    matrix: np.ndarray | ann.Rows | None = None
    #: Where each entry's rows start; the last item: where the passages' rows start.
    starts: np.ndarray | None = None
    #: The entries' rows' and the passages' rows' graphs, above ``ann_threshold`` rows.
    graphs: tuple[ann.Ann, ann.Ann] | None = None


class FaqIndex:
    """``embedder``: dense retrieval with its vectors kept in ``index_dir``; None: BM25 only.
    Above ``ann_threshold`` rows, dense candidates come from an ANN graph (gateway/knowledge/
    ann.py) and are scored exactly; below it every row is scored."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        embedder: Embedder | None = None,
        index_dir: str | Path = "var/index",
        progress: bool = False,
        ann_threshold: int = ann.THRESHOLD,
    ) -> None:
        self._assemble(knowledge, embedder, build_parts(knowledge, embedder, index_dir,
                                                        progress, ann_threshold))  # fmt: skip

    @classmethod
    def from_parts(
        cls, knowledge: KnowledgeBase, embedder: Embedder | None, parts: Parts
    ) -> FaqIndex:
        index = cls.__new__(cls)
        index._assemble(knowledge, embedder, parts)
        return index

    def _assemble(self, knowledge: KnowledgeBase, embedder: Embedder | None, parts: Parts) -> None:
        self.knowledge = knowledge
        self.entries = knowledge.entries
        self.passages = knowledge.passages
        self.parts = parts
        self._questions = parts.questions
        self._answers = parts.answers
        self.embedder = embedder if parts.matrix is not None else None
        self.dense_floor = DENSE_FLOOR
        self.dense_ceiling = DENSE_CEILING
        self._category_masks: dict[tuple[str, ...], np.ndarray] = {}
        self._matrix = parts.matrix
        self._graphs = parts.graphs
        if self._matrix is not None and parts.starts is not None:
            _check_layout(self.entries, parts.starts)
            self._starts = parts.starts
            self._entry_rows = int(self._starts[-1])
            rows = len(self._matrix)
            self._sample = np.linspace(0, rows - 1, min(rows, BASELINE_SAMPLE)).astype(np.int64)
            # The sample is scored every question: converting its float16 rows each time cost
            # 8 ms at 4,096 rows, more than the rest of the exact scoring (6 MB kept instead).
            if self._graphs is not None:
                self._sample_rows = np.asarray(self._matrix[self._sample], np.float32)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def dense(self) -> bool:
        return self._matrix is not None

    def search(
        self,
        text: str,
        limit: int = 5,
        answer_weight: float = 0.3,
        mode: Mode = "hybrid",
        favoured: Sequence[str] = (),
    ) -> list[Hit]:
        """The best entries for ``text``, best first; empty when nothing in it is known.

        Words found in an entry's answer count ``answer_weight`` times as much as words found
        in its question and phrasings. ``mode``: ``hybrid`` (the default; BM25 alone when the
        index has no vectors), ``bm25`` or ``dense``. The entries of the ``favoured``
        categories stand a little closer by meaning (``FAVOURED_BONUS``)."""
        if mode != "bm25" and self._matrix is not None:
            return self._fused(text, limit, answer_weight, mode, favoured)
        return self._lexical(text, limit, answer_weight)

    def search_passages(self, text: str, limit: int = 5) -> list[PassageHit]:
        """The documents' passages most alike in meaning to ``text``, best first."""
        if self._matrix is None or not self.passages:
            return []
        if self._graphs is None:
            rows = self._similarity(text)
            similarity = rows[self._entry_rows :] - self._baseline(rows)
            positions = None
        else:
            scored, exact, baseline = self._scored(text)
            passages = scored >= self._entry_rows
            positions = scored[passages] - self._entry_rows
            similarity = exact[passages] - baseline
        best = _top(similarity, limit)
        return [
            PassageHit(self.passages[int(i)], float(cosine), self._dense_confidence(cosine))
            for i, cosine in zip(
                best if positions is None else positions[best], similarity[best], strict=True
            )
        ]

    def _similarity(self, text: str) -> np.ndarray:
        """Each row's cosine similarity to ``text``, every row scored (no ANN graphs)."""
        assert self._matrix is not None and self.embedder is not None
        return (self._matrix @ self.embedder.query(text).astype(np.float16)).astype(np.float32)

    def _scored(
        self, text: str, rows: np.ndarray = ann.NO_ROWS
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Through the ANN graphs: the rows scored for ``text``, exactly as brute force would
        (the baseline's sample, the rows the graphs propose and ``rows``, each once), their
        cosine similarities and the baseline, the sample's median. The rows not scored stand
        at the baseline, above it by 0: no ranking takes them and no confidence comes from
        them. Nothing here is proportional to the base: at 1.6 M rows a pass over all of them
        costs milliseconds a question (docs/benchmarks.md)."""
        assert self._matrix is not None and self.embedder is not None
        query = self.embedder.query(text).astype(np.float16)
        proposed = [graph.search(query, ann.CANDIDATE_ROWS) for graph in self._graphs or ()]
        # An entry is pooled over all its rows (_entry_similarity): a row proposed brings its
        # entry's others.
        entry_rows = np.concatenate([rows, *proposed])
        entry_rows = entry_rows[entry_rows < self._entry_rows]
        owners = np.unique(np.searchsorted(self._starts, entry_rows, side="right") - 1)
        siblings = [np.arange(self._starts[i], self._starts[i + 1]) for i in owners]
        others = np.setdiff1d(np.concatenate([rows, *proposed, *siblings]), self._sample)
        # In float32 (numpy's float16 product has no BLAS) and by einsum: OpenBLAS splits a
        # product of a few thousand rows across threads that wait for each other on a busy
        # machine (12 ms instead of 1.3 ms for the sample here).
        query32 = query.astype(np.float32)
        sample = np.einsum("ij,j->i", self._sample_rows, query32)
        exact = np.einsum("ij,j->i", np.asarray(self._matrix[others], np.float32), query32)
        scored = np.concatenate([self._sample, others])
        return scored, np.concatenate([sample, exact]), float(np.median(sample))

    def _baseline(self, rows: np.ndarray) -> float:
        return float(np.median(rows[self._sample]))

    def _entry_similarity(self, text: str, also: Iterable[int] = ()) -> np.ndarray:
        """How far each entry stands above the question's median similarity to the base: the
        mean of its whole row (question and phrasings together) and its best row (the
        question, one phrasing or one curated translation's question); the entries ``also``
        are scored exactly whatever the ANN graph proposes.

        The best row alone finds a question worded like one phrasing (中国绿卡 for permanent
        residence), but lets a short phrasing stand close to unrelated questions; the whole
        row alone misses the one phrasing. Their mean ranks the close entries better on all
        three question sets, with fewer wrong answers (docs/benchmarks.md)."""
        starts = self._starts
        if self._graphs is None:
            rows = self._similarity(text)
            best = np.maximum.reduceat(rows[: self._entry_rows], starts[:-1])
            return (rows[starts[:-1]] + best) / 2 - self._baseline(rows)
        wanted = [np.arange(starts[i], starts[i + 1]) for i in also]
        scored, exact, baseline = self._scored(
            text, np.concatenate(wanted) if wanted else ann.NO_ROWS
        )
        # Brute force's pooling from the scored rows alone: every row of an entry a graph
        # proposed is scored; an entry only part of whose rows were scored (through the
        # baseline's sample) was not proposed and stands at the baseline, 0.
        mine = scored < self._entry_rows
        order = np.argsort(scored[mine], kind="stable")
        rows, values = scored[mine][order], exact[mine][order]
        owners = np.searchsorted(starts, rows, side="right") - 1
        touched, first, counts = np.unique(owners, return_index=True, return_counts=True)
        if not len(first):
            return np.zeros(len(self.entries), np.float32)
        pooled = (values[first] + np.maximum.reduceat(values, first)) / 2 - baseline
        complete = counts == starts[touched + 1] - starts[touched]
        similarity = np.zeros(len(self.entries), np.float32)
        similarity[touched[complete]] = pooled[complete]
        return similarity

    def _dense_share(self, similarity: float) -> float:
        """Where ``similarity`` stands from ``dense_floor`` (0) to ``dense_ceiling`` (1),
        not capped."""
        return float((similarity - self.dense_floor) / (self.dense_ceiling - self.dense_floor))

    def _dense_confidence(self, similarity: float) -> float:
        return min(1.0, max(0.0, self._dense_share(similarity)))

    def _fused(
        self, text: str, limit: int, answer_weight: float, mode: Mode, favoured: Sequence[str]
    ) -> list[Hit]:
        words = tokens(text)
        lexical = None if mode == "dense" else self._lexical_scores(words, answer_weight)
        dense = self._entry_similarity(text, () if lexical is None else _top(lexical, CANDIDATES))
        if favoured:
            # Only the entries scored: the others stand at the baseline, 0, and stay there.
            dense = dense + FAVOURED_BONUS * ((dense != 0) & self._in_categories(tuple(favoured)))
        fused = np.zeros(len(self.entries), np.float32)
        for scores in (dense, lexical):
            if scores is None:
                continue
            ranked = _top(scores, CANDIDATES)
            ranked = ranked[scores[ranked] > 0]
            fused[ranked] += 1.0 / (RRF_K + np.arange(1, len(ranked) + 1))
        hits, strengths = [], []
        for i in _top(fused, max(limit, RERANKED)):
            if fused[i] <= 0:
                break
            share = self._dense_share(dense[i])
            confidence = min(1.0, max(0.0, share))
            if lexical is not None and lexical[i] > 0:
                confidence = max(confidence, self._confidence(words, int(i)))
            hits.append(Hit(self.entries[i], float(fused[i]), confidence, float(dense[i])))
            strengths.append(max(share, confidence))
        # The fused ranking proposes, the confidence (what decides whether to answer) orders:
        # 81 % right first on the question set against 74 % by fused rank. Ordered before the
        # confidence is capped at 1: close entries all sure would be left in fused order.
        order = sorted(range(len(hits)), key=lambda n: -strengths[n])
        return [hits[n] for n in order[:limit]]

    def _in_categories(self, categories: tuple[str, ...]) -> np.ndarray:
        mask = self._category_masks.get(categories)
        if mask is None:
            wanted = set(categories)
            flags = (entry.category in wanted for entry in self.entries)
            mask = np.fromiter(flags, bool, len(self.entries))
            self._category_masks[categories] = mask
        return mask

    def _lexical(self, text: str, limit: int, answer_weight: float) -> list[Hit]:
        words = tokens(text)
        combined = self._lexical_scores(words, answer_weight)
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

    def _lexical_scores(self, words: list[str], answer_weight: float) -> np.ndarray | None:
        if not words:
            return None
        combined = self._questions.scores(words)
        from_answers = self._answers.scores(words)
        if from_answers is not None:
            weighted = answer_weight * from_answers
            combined = weighted if combined is None else combined + weighted
        return combined

    def coverage(self, text: str, entry: Entry) -> float:
        """How much of ``entry``'s question ``text`` says: the rarity-weighted share of the
        words of the entry's question, or of its closest phrasing, found in ``text`` (0–1).

        The confidence of a hit measures the reverse, how much of the question the entry
        covers. A follow-up such as 需要什么材料 is fully covered by many entries yet names
        none of their topics: its coverage is low."""
        words = set(tokens(text))
        phrasings = (entry.question, *entry.phrasings)
        lexical = max(self._found_share(set(tokens(phrasing)), words) for phrasing in phrasings)
        if self._matrix is None:
            return lexical
        # In a language BM25 cannot read, how much of the entry's meaning the text carries.
        position = self._position(entry)
        if position is None:
            return lexical
        above = self._entry_similarity(text, [position])[position]
        dense = (above - COVERAGE_FLOOR) / (COVERAGE_CEILING - COVERAGE_FLOOR)
        return max(lexical, float(min(1.0, max(0.0, dense))))

    def _position(self, entry: Entry) -> int | None:
        return self.knowledge.positions.get(entry.id)

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


def build_parts(
    knowledge: KnowledgeBase,
    embedder: Embedder | None,
    index_dir: str | Path,
    progress: bool = False,
    ann_threshold: int = ann.THRESHOLD,
) -> Parts:
    """The BM25 fields of ``knowledge``'s entries and, with an ``embedder``, its vectors (from
    ``index_dir``, embedding the texts not embedded there before) and their ANN graphs."""
    questions = _Field(_question_text(entry) for entry in knowledge.entries)
    answers = _Field(entry.answer for entry in knowledge.entries)
    if embedder is None:
        return Parts(questions, answers)
    texts, starts = _dense_texts(knowledge)
    matrix = vectors.build(embedder, texts, index_dir, progress)
    del texts
    graphs = None
    if len(matrix) > ann_threshold:
        first = int(starts[-1])
        graphs = (
            ann.Ann.build(matrix[:first], 0, progress),
            ann.Ann.build(matrix[first:], first, progress),
        )
    return Parts(questions, answers, matrix, starts, graphs)


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


def _dense_texts(knowledge: KnowledgeBase) -> tuple[list[str], np.ndarray]:
    """The texts embedded, entries' rows first, then one row per passage; and where each
    entry's rows start (the last item: where the passages start).

    An entry is embedded as its question with its phrasings (its first row, the whole), as
    its question and each phrasing apart, and as each curated translation's question: a
    foreign question finds its entry through the translation."""
    texts: list[str] = []
    starts = []
    for entry in knowledge.entries:
        starts.append(len(texts))
        texts.extend(_entry_texts(entry))
    starts.append(len(texts))
    texts.extend(
        " ".join(filter(None, [p.title, p.section])) + "\n" + p.text for p in knowledge.passages
    )
    return texts, np.asarray(starts, dtype=np.int64)


def _entry_texts(entry: Entry) -> list[str]:
    return [
        "；".join([entry.question, *entry.phrasings]),
        *dict.fromkeys([entry.question, *entry.phrasings]),
        *(t.question for t in entry.translations.values()),
    ]


def _check_layout(entries: Sequence[Entry], starts: np.ndarray) -> None:
    """ValueError when ``starts`` does not give the first and the last entry the rows
    :func:`_entry_texts` makes: vectors kept in ``index_dir`` by a version that embedded
    entries otherwise are built again (gateway/knowledge/persist.py rebuilds on any error)."""
    for position in {0, len(entries) - 1} if len(entries) else ():
        rows = int(starts[position + 1] - starts[position])
        if rows != len(_entry_texts(entries[position])):
            raise ValueError(f"entry {position} has {rows} vector rows, another layout")


def _top(scores: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the ``limit`` highest scores, highest first."""
    limit = min(limit, len(scores))
    if limit <= 0:
        return np.zeros(0, np.int64)
    # Most of a large base's scores are 0 (a row no graph proposed, an entry without the
    # question's words): when enough are above it, only those are partitioned, which gives the
    # same positions at a fraction of the cost (5–8 ms at 600,000 entries otherwise).
    positive = np.flatnonzero(scores > 0)
    if len(positive) >= limit:
        best = positive[np.argpartition(-scores[positive], limit - 1)[:limit]]
    else:
        best = np.argpartition(-scores, limit - 1)[:limit]
    return best[np.argsort(-scores[best], kind="stable")]
