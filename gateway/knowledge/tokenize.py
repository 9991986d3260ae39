"""Words for retrieval: Chinese word segmentation (jieba's dictionary, through its Rust port,
with the curated government terms added) in search mode, lower-cased Latin words, and no
topic-less words."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

import rjieba

from gateway.safety.pii import LABELS

# A masked number says nothing about the topic of the question it was in.
_MASK_LABELS = re.compile("|".join(re.escape(label) for label in LABELS.values()))
_WORD_CHARACTER = re.compile(r"[^\W_]")


def data_lines(name: str) -> list[str]:
    """Lines of a file in gateway/data, without blank lines and ``#`` comments."""
    text = (resources.files("gateway") / "data" / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@cache
def stopwords() -> frozenset[str]:
    return frozenset(line.lower() for line in data_lines("stopwords.txt"))


@cache
def government_terms() -> tuple[str, ...]:
    """The curated government service terms (gateway/data/terms.tsv), most common first."""
    rows = [line.split("\t") for line in data_lines("terms.tsv")]
    rows.sort(key=lambda row: -int(row[2]))
    return tuple(row[0] for row in rows)


@cache
def _segmenter_ready() -> bool:
    # Without them jieba cuts 残疾人证 or 个税 into pieces that match the wrong entries.
    for term in government_terms():
        rjieba.add_word(term, None, None)
    return True


def tokens(text: str) -> list[str]:
    """The retrieval words of ``text``, in order, repeats kept.

    Segmentation runs without jieba's HMM guesser: an unknown pair of characters (在哪办 →
    哪办) is better kept as single characters than joined into a word nothing else contains.
    """
    _segmenter_ready()
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if "[" in text:
        text = _MASK_LABELS.sub(" ", text)
    drop = stopwords()
    return [
        word
        for word in rjieba.cut_for_search(text.lower(), False)
        if (word.isalnum() or _WORD_CHARACTER.search(word)) and word not in drop
    ]
