"""How well unanswered questions are grouped by meaning (gateway/knowledge/grouping.py), on
bench/data/unanswered_paraphrases.tsv: 8 gaps asked 5 ways in 9 languages, and 10 unrelated
questions that should each stay alone.

    python bench/grouping.py                       # thresholds 0.80 … 0.92, the configured embedder
    python bench/grouping.py --thresholds 0.87

For each threshold: the groups made (18 would be perfect), *purity* (the share of questions in
a group whose most common gap is their own: 1.0 means no gap hides another) and *completeness*
(the share of questions in the group holding most of their gap: 1.0 means each gap is one row).
Leader clustering depends on which question leads (the most asked), so each threshold is
measured over ``--orders`` random ask counts (1–9 per question): mean groups, mean and lowest
purity, mean completeness.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gateway.knowledge.embedding import Embedder  # noqa: E402
from gateway.state.store import Unanswered  # noqa: E402

PARAPHRASES = ROOT / "bench" / "data" / "unanswered_paraphrases.tsv"


def paraphrases(path: Path = PARAPHRASES) -> list[tuple[str, Unanswered]]:
    """(gap, question) pairs, each question as the store would give it: asked once, the first
    of the file the most recent."""
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    rows = [
        line.rstrip("\n").split("\t")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [
        (gap, Unanswered(text, language, "not_found", 1, now, now - dt.timedelta(minutes=n), n + 1))
        for n, (gap, language, text) in enumerate(rows)
    ]


def scores(gaps: Sequence[str], labels: Sequence[int]) -> tuple[int, float, float]:
    """Groups, purity and completeness of ``labels`` (a group number per question)."""
    clusters: dict[int, list[str]] = {}
    by_gap: dict[str, list[int]] = {}
    for gap, label in zip(gaps, labels, strict=True):
        clusters.setdefault(label, []).append(gap)
        by_gap.setdefault(gap, []).append(label)
    majority = sum(Counter(m).most_common(1)[0][1] for m in clusters.values())
    largest = sum(Counter(m).most_common(1)[0][1] for m in by_gap.values())
    return len(clusters), majority / len(gaps), largest / len(gaps)


def labelled(pairs: Sequence[tuple[str, Unanswered]], groups: Sequence) -> list[int]:
    """A group number for each question of ``pairs``, in their order."""
    number = {member.id: n for n, group in enumerate(groups) for member in group.members}
    return [number[question.id] for _, question in pairs]


def measure(
    pairs: Sequence[tuple[str, Unanswered]], embedder: Embedder, threshold: float, orders: int
) -> tuple[float, float, float, float]:
    """Mean groups, mean purity, lowest purity and mean completeness over ``orders`` random
    ask counts (the same ones for every threshold)."""
    from gateway.knowledge import grouping

    results = []
    for seed in range(orders):
        counts = random.Random(seed)
        questions = [replace(q, count=counts.randint(1, 9)) for _, q in pairs]
        grouped = grouping.group(questions, embedder, threshold)
        results.append(scores([gap for gap, _ in pairs], labelled(pairs, grouped.groups)))
    return (
        statistics.mean(r[0] for r in results),
        statistics.mean(r[1] for r in results),
        min(r[1] for r in results),
        statistics.mean(r[2] for r in results),
    )


def main() -> None:
    from gateway.config import load_settings
    from gateway.knowledge import grouping
    from gateway.services import embedder_for

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="TOML configuration file (its embedder)")
    parser.add_argument("--thresholds", default=",".join(f"{t / 100:.2f}" for t in range(80, 93)))
    parser.add_argument("--orders", type=int, default=20, help="random ask counts tried (20)")
    args = parser.parse_args()
    embedder = embedder_for(load_settings(args.config).knowledge)
    if embedder is None:
        sys.exit("bench/grouping.py: no embedder configured ([knowledge] embedder = none)")
    pairs = paraphrases()
    started = time.perf_counter()
    grouping.vectors(embedder, [question.question for _, question in pairs])
    took = (time.perf_counter() - started) / len(pairs) * 1000
    print(f"{len(pairs)} questions, {len(set(g for g, _ in pairs))} true groups; embedder "
          f"{embedder.identity}, {took:.0f} ms a question")  # fmt: skip
    print("threshold\tgroups\tpurity\tlowest purity\tcompleteness")
    for threshold in map(float, args.thresholds.split(",")):
        groups, purity, lowest, completeness = measure(pairs, embedder, threshold, args.orders)
        print(f"{threshold:.2f}\t{groups:.1f}\t{purity:.3f}\t{lowest:.3f}\t{completeness:.3f}")


if __name__ == "__main__":
    main()
