"""Unanswered questions grouped by meaning, so that one gap of the knowledge base asked forty
ways shows as one row with its count (the admin page, docs/admin.md).

Each question is embedded as a query by the configured embedder and the questions are grouped
by greedy leader clustering: taken most asked first, a question joins the group whose first
(most asked) question is the most alike to it, when their cosine similarity reaches
``threshold``, and otherwise starts a group of its own. The leader, the phrasing residents use
most, is the group's representative. Leader clustering was as good as average linkage on the
paraphrase set (bench/grouping.py, figures in docs/admin.md) and is one pass of dot products.

Without an embedder (``[knowledge] embedder = "none"``) questions are grouped when their
normalized text is the same (Unicode NFKC, case, spaces and punctuation ignored). Vectors are
kept in memory by the text's digest, never on disk: the questions are stored masked and stay
only where the store keeps them.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from cachetools import LRUCache

from gateway.knowledge.embedding import Embedder
from gateway.state.store import Unanswered

#: Chosen on bench/data/unanswered_paraphrases.tsv with multilingual-e5-small: the lowest
#: threshold whose groups are ≥ 95 % pure on average over random ask counts (a wrong merge
#: hides a gap; a split only shows it twice). docs/admin.md has the sweep.
THRESHOLD = 0.88
#: The newest questions grouped by meaning; older ones are grouped by their text only, so a
#: long list costs at most this many embeddings (~20–40 ms each on one core, then cached).
LIMIT = 500
#: Question vectors kept in memory (384 floats each for e5-small: ~1.5 kB).
CACHED = 8192

Method = Literal["embedding", "text"]
_NOT_WORDS = re.compile(r"[\W_]+")
_cache: LRUCache[tuple[str, bytes], np.ndarray] = LRUCache(maxsize=CACHED)
_cache_lock = threading.Lock()


def normalized(text: str) -> str:
    """The text as compared without an embedder: 居住证怎么办？ and 居住证 怎么办 are one."""
    return _NOT_WORDS.sub("", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True, slots=True)
class Group:
    #: Most asked first; the first is the representative.
    members: list[Unanswered]
    #: How the members were found alike: ``embedding`` or ``text`` (beyond ``limit``).
    method: Method

    @property
    def representative(self) -> Unanswered:
        return self.members[0]

    @property
    def count(self) -> int:
        return sum(member.count for member in self.members)


@dataclass(frozen=True, slots=True)
class Grouping:
    groups: list[Group]
    #: ``embedding`` when the newest questions were grouped by meaning, ``text`` without an
    #: embedder.
    method: Method
    threshold: float
    #: How many of the questions were compared by meaning (the newest, at most ``limit``).
    by_meaning: int


def vectors(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """The texts' query vectors, from the cache where it has them."""
    keys = [(embedder.identity, hashlib.sha1(text.encode("utf-8")).digest()) for text in texts]
    with _cache_lock:
        found = {key: _cache[key] for key in keys if key in _cache}
    missing = list(dict.fromkeys(key for key in keys if key not in found))
    if missing:
        text_of = dict(zip(keys, texts, strict=True))
        embedded = embedder.queries([text_of[key] for key in missing])
        with _cache_lock:
            for key, vector in zip(missing, embedded, strict=True):
                _cache[key] = found[key] = vector
    if not keys:
        return np.zeros((0, 0), np.float32)
    return np.stack([found[key] for key in keys]).astype(np.float32)


def leaders(matrix: np.ndarray, threshold: float) -> list[int]:
    """For each row (unit vectors, in order), the row that leads its group."""
    led: list[int] = []
    firsts: list[int] = []
    for row, vector in enumerate(matrix):
        if firsts:
            similarity = matrix[firsts] @ vector
            best = int(similarity.argmax())
            if similarity[best] >= threshold:
                led.append(firsts[best])
                continue
        firsts.append(row)
        led.append(row)
    return led


def group(
    questions: Sequence[Unanswered],
    embedder: Embedder | None,
    threshold: float = THRESHOLD,
    limit: int = LIMIT,
) -> Grouping:
    """The questions in groups, most asked group first (then the latest asked)."""
    newest = sorted(questions, key=lambda q: (q.last_seen, q.id), reverse=True)
    meant = newest[:limit] if embedder is not None else []
    rest = newest[len(meant) :]
    groups: list[Group] = []
    if embedder is not None and meant:
        meant.sort(key=lambda q: (q.count, q.last_seen, q.id), reverse=True)
        led = leaders(vectors(embedder, [q.question for q in meant]), threshold)
        by_leader: dict[int, list[Unanswered]] = {}
        for question, leader in zip(meant, led, strict=True):
            by_leader.setdefault(leader, []).append(question)
        groups.extend(Group(members, "embedding") for members in by_leader.values())
    by_text: dict[str, list[Unanswered]] = {}
    for question in sorted(rest, key=lambda q: (q.count, q.last_seen, q.id), reverse=True):
        by_text.setdefault(normalized(question.question), []).append(question)
    groups.extend(Group(members, "text") for members in by_text.values())
    groups.sort(key=lambda g: (g.count, max(m.last_seen for m in g.members)), reverse=True)
    return Grouping(groups, "embedding" if embedder else "text", threshold, len(meant))
