"""Retrieval quality on residents' questions in many languages (bench/data/retrieval_questions.tsv).

    python bench/retrieval.py                    # the gateway as configured by default
    python bench/retrieval.py --modes bm25,dense,hybrid
    python bench/retrieval.py --questions fresh     # the set written after tuning on the first

Every question goes through the gateway's own chat flow (understanding, masking, the question's
language, curated-translation matching, follow-ups read with the conversation's topic, the
``faq`` back end), so the figures are what a resident gets. Reported, per language group:

* top-1: the answer given is one of the expected entries (off-topic questions excluded);
* recall@5 and MRR: over the five best hits of the index for the text the back end read;
* refused: off-topic questions answered "not found";
* wrong: on-topic questions answered with an entry that is not expected (worse than no answer).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUESTIONS = ROOT / "bench" / "data" / "retrieval_questions.tsv"
#: Question sets by name: the first one (used for tuning), and fresh ones written later.
SETS = {
    "first": QUESTIONS,
    "fresh": ROOT / "bench" / "data" / "retrieval_fresh.tsv",
    "fresh2": ROOT / "bench" / "data" / "retrieval_fresh2.tsv",
    "fresh3": ROOT / "bench" / "data" / "retrieval_fresh3.tsv",
    "fresh4": ROOT / "bench" / "data" / "retrieval_fresh4.tsv",
    "fresh5": ROOT / "bench" / "data" / "retrieval_fresh5.tsv",
}
#: The UI language a resident of each language would pick (the portal has these catalogs).
LOCALES = {"zh": "zh-CN", "yue": "zh-HK", "zh-Hant": "zh-HK", "de": "en"}
GROUPS = {"zh": "Mandarin", "yue": "Cantonese", "zh-Hant": "Traditional"}


@dataclass(frozen=True)
class Question:
    language: str
    expected: frozenset[str]
    text: str
    history: tuple[str, ...]

    @property
    def off_topic(self) -> bool:
        return not self.expected

    @property
    def group(self) -> str:
        if self.off_topic:
            return "off-topic"
        if self.history:
            return "follow-ups"
        return GROUPS.get(self.language, "foreign")


def read_questions(path: Path = QUESTIONS) -> list[Question]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    rows = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        Question(
            row["language"],
            frozenset() if row["expected"] == "-" else frozenset(row["expected"].split(",")),
            row["question"],
            tuple(part.strip() for part in row["history"].split("||") if part.strip()),
        )
        for row in rows
    ]


@dataclass
class Tally:
    questions: int = 0
    top1: int = 0
    recall5: int = 0
    reciprocal: float = 0.0
    refused: int = 0
    wrong: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, question: Question, answered: str | None, ranked: Sequence[str]) -> None:
        self.questions += 1
        if question.off_topic:
            self.refused += answered is None
            if answered is not None:
                self.misses.append(f"{question.text} -> {answered}")
            return
        self.top1 += answered in question.expected
        self.wrong += answered is not None and answered not in question.expected
        positions = [n for n, entry in enumerate(ranked[:5], 1) if entry in question.expected]
        self.recall5 += bool(positions)
        self.reciprocal += 1 / positions[0] if positions else 0.0
        if answered not in question.expected:
            self.misses.append(f"{question.text} -> {answered} (top 5: {', '.join(ranked[:5])})")

    def row(self, name: str) -> str:
        n = self.questions
        if name == "off-topic":
            return f"| {name} | {n} | | | | {self.refused / n:.0%} | |"
        return (
            f"| {name} | {n} | {self.top1 / n:.0%} | {self.recall5 / n:.0%} | "
            f"{self.reciprocal / n:.2f} | | {self.wrong / n:.0%} |"
        )


async def evaluate(mode: str, questions: list[Question], verbose: bool) -> None:
    from gateway.backends.base import Turn
    from gateway.chat import ChatService
    from gateway.config import Settings

    with tempfile.TemporaryDirectory() as folder:
        data: dict = {"state": {"database_url": f"sqlite:///{folder}/bench.db"}}
        if mode != "default":
            data["backends"] = [{"name": "faq", "type": "faq", "retrieval": mode}]
        chat = ChatService.from_settings(Settings.model_validate(data))
        started = time.perf_counter()
        await chat.startup()
        print(f"started in {time.perf_counter() - started:.1f} s")
        tallies: dict[str, Tally] = defaultdict(Tally)
        decided: list[tuple[Question, str | None, float]] = []
        latencies = []
        try:
            index = await chat.services.index()
            faq = chat.backends["faq"]
            for question in questions:
                locale = LOCALES.get(question.language, question.language)
                history = [
                    turn
                    for earlier in question.history
                    for turn in (Turn("user", earlier), Turn("assistant", "…"))
                ]
                began = time.perf_counter()
                prepared = chat.prepare(question.text, locale, history=history)
                reply = await chat.answer(prepared)
                latencies.append(time.perf_counter() - began)
                # The entry answered, as the gateway keeps it for the resident's feedback.
                record = await chat.records.get(reply.message_id)
                answered = (record.entry_id or None) if reply.found and record else None
                # The text the faq back end read, ranked by the index itself.
                prepared = chat.prepare(question.text, locale, history=history)
                query = await chat.translation.question(prepared.query)
                plan, _ = await chat._plan(query, prepared.history)
                said = plan.standalone or plan.query.text
                hits = index.search(
                    said,
                    limit=5,
                    mode=mode if mode != "default" else "hybrid",
                    favoured=faq.options.favoured(plan.query),
                )
                ranked = [hit.entry.id for hit in hits]
                decided.append(
                    (question, ranked[0] if hits else None, hits[0].confidence if hits else 0)
                )
                for name in (question.group, "all on-topic" if question.expected else None):
                    if name:
                        tallies[name].add(question, answered, ranked)
                if question.expected and question.group != "follow-ups":
                    tallies["all foreign" if question.group == "foreign" else "all Chinese"].add(
                        question, answered, ranked
                    )
        finally:
            await chat.aclose()
    print("| group | questions | top-1 | recall@5 | MRR | refused | wrong answer |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    order = ["Mandarin", "Cantonese", "Traditional", "all Chinese", "foreign", "all foreign",
             "follow-ups", "all on-topic", "off-topic"]  # fmt: skip
    for name in order:
        if name in tallies:
            print(tallies[name].row(name))
    print(
        f"answer latency: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {sorted(latencies)[int(0.99 * len(latencies))] * 1000:.0f} ms"
    )
    print("\nthe faq back end's min_confidence (hits of the text it read, passages aside):")
    print("| min_confidence | top-1 on-topic | top-1 foreign | wrong answer | off-topic refused |")
    print("|---:|---:|---:|---:|---:|")
    on_topic = [d for d in decided if d[0].expected]
    foreign = [d for d in on_topic if d[0].group == "foreign"]
    off_topic = [d for d in decided if not d[0].expected]
    for threshold in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9):

        def right(rows: list, t: float = threshold) -> float:
            return sum(c >= t and e in q.expected for q, e, c in rows) / len(rows)

        wrong = sum(c >= threshold and e not in q.expected for q, e, c in on_topic) / len(on_topic)
        refused = sum(c < threshold for _, _, c in off_topic) / len(off_topic)
        cells = [right(on_topic), right(foreign), wrong, refused]
        print(f"| {threshold} | " + " | ".join(f"{cell:.0%}" for cell in cells) + " |")
    if verbose:
        for name in order:
            for miss in tallies[name].misses if name in tallies else []:
                if name not in ("all Chinese", "all foreign", "all on-topic"):
                    print(f"  [{name}] {miss}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", action="store_true", help="list every question gone wrong")
    parser.add_argument(
        "--modes", default="default", help="faq retrieval modes to compare: bm25,dense,hybrid"
    )
    parser.add_argument("--questions", choices=sorted(SETS), default="first")
    args = parser.parse_args()
    questions = read_questions(SETS[args.questions])
    print(f"{len(questions)} questions, {len({q.language for q in questions})} languages")
    for mode in args.modes.split(","):
        print(f"\n### {mode}")
        asyncio.run(evaluate(mode, questions, args.misses))


if __name__ == "__main__":
    main()
