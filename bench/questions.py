"""Residents' questions for load benchmarks: many distinct ones, so no cache can flatter a run.

The base set is every question and phrasing of the bundled knowledge base (885) and every text
of the understanding development set (tests/data/understanding.tsv: Traditional, Cantonese,
pinyin, typos, foreign languages …), about 1,370 distinct questions. ``varied(n)`` turns them
into ``n`` questions asked the way residents open and close a question (请问…, 您好，…谢谢;
``qingwen …`` for pinyin; punctuation for other languages), in rounds: each round asks every
base question once, in a shuffled order, with the round's opening and closing. Chinese and pinyin
questions never repeat within 60 rounds (about 80,000 questions); the few foreign-language
ones (about 5 %) repeat after six rounds, that is, some 8,000 questions later.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gateway.knowledge.entries import bundled_sample, load  # noqa: E402

DEVELOPMENT_SET = ROOT / "tests" / "data" / "understanding.tsv"
#: The question every request of a "repeated" run asks.
REPEATED = "居住证怎么办理？需要带什么材料"

OPENINGS = ["", "请问", "你好，", "您好，", "我想问一下，", "请问一下", "麻烦问下，", "咨询一下，",
            "打扰一下，", "想了解一下", "问下", "老师好，"]  # fmt: skip
CLOSINGS = ["", "？", "，谢谢", "。谢谢！", "呢", "？急"]
PINYIN_OPENINGS = ["", "qingwen ", "nihao ", "wo xiang wen ", "qing wen yi xia ", "zixun yixia "]
PINYIN_CLOSINGS = ["", " ?", " xiexie", "?", " a", " ne"]
OTHER_CLOSINGS = ["", "?", " ?", "!", "…", "??"]


def base_questions() -> list[tuple[str, str]]:
    """``(kind, text)``: kind is ``han`` (Chinese characters in it), ``pinyin`` or ``other``."""
    knowledge = load([bundled_sample()])
    texts = {
        text: "han" for entry in knowledge.entries for text in [entry.question, *entry.phrasings]
    }
    for line in DEVELOPMENT_SET.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        category, _locale, text, *_ = line.split("\t")
        if text in texts:
            continue
        if any("\u3400" <= char <= "\u9fff" for char in text):
            texts[text] = "han"
        elif category.startswith("pinyin"):
            texts[text] = "pinyin"
        else:
            texts[text] = "other"
    return [(kind, text) for text, kind in texts.items()]


def variant(kind: str, text: str, round_number: int) -> str:
    if kind == "han":
        opening = OPENINGS[round_number % len(OPENINGS)]
        closing = CLOSINGS[(round_number // len(OPENINGS)) % len(CLOSINGS)]
    elif kind == "pinyin":
        opening = PINYIN_OPENINGS[round_number % len(PINYIN_OPENINGS)]
        closing = PINYIN_CLOSINGS[(round_number // len(PINYIN_OPENINGS)) % len(PINYIN_CLOSINGS)]
    else:
        opening, closing = "", OTHER_CLOSINGS[round_number % len(OTHER_CLOSINGS)]
    if closing and text.endswith(("？", "?", "。", "!", "！")):
        text = text[:-1]
    return opening + text + closing


def varied(count: int, seed: int = 7) -> list[str]:
    """``count`` questions, in rounds over the base set (see the module's docstring)."""
    base = base_questions()
    shuffler = random.Random(seed)
    questions: list[str] = []
    round_number = 0
    while len(questions) < count:
        order = base[:]
        shuffler.shuffle(order)
        questions.extend(variant(kind, text, round_number) for kind, text in order)
        round_number += 1
    return questions[:count]


if __name__ == "__main__":
    sample = varied(int(sys.argv[1]) if len(sys.argv) > 1 else 80_000)
    print(f"{len(sample)} questions, {len(set(sample))} distinct, base {len(base_questions())}")
