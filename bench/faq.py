"""FAQ retrieval speed and memory: the bundled sample, and a generated provincial-size base.

    python bench/faq.py                      # sample, then 600,000 generated entries
    python bench/faq.py --entries 100000     # a smaller generated base

Each scenario runs in two processes of its own, so that their memory is their own: *build*
reads the base and keeps its index in a temporary ``index_dir`` (what ``gateway kb build``
does, gateway/knowledge/persist.py), *start* opens the kept index as a gateway does. Reported:
the seconds of each, resident memory after the start (and its growth over the interpreter
with the libraries imported), and the latency of ``FaqIndex.search`` (median and 99th
percentile) over questions residents ask, which are not copies of the entries.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

QUESTIONS = [
    "居住证怎么办理",
    "社保卡丢了怎么办",
    "租房可以提取公积金吗",
    "异地就医怎么备案",
    "护照过期了怎么换",
    "结婚登记要带什么",
    "驾驶证到期换证",
    "个税汇算怎么办",
    "残疾人证在哪办",
    "失业金怎么领",
    "外国人工作许可怎么申请",
    "孩子上小学要什么材料",
    "新生儿怎么上户口",
    "养老金资格认证怎么做",
    "营业执照怎么变更地址",
    "灵活就业怎么交社保",
    "退休了公积金怎么取",
    "医保报销比例是多少",
    "港澳通行证签注",
    "高龄津贴怎么申请",
]


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def generate(folder: Path, count: int, seed: int = 7) -> None:
    """``count`` entries in the sample's format: the sample's questions placed in many cities
    and varied with words from pypinyin's phrase list, so the vocabulary grows like a real
    provincial policy library's."""
    from pypinyin.phrases_dict import phrases_dict

    from gateway.knowledge.entries import bundled_sample, load

    rng = random.Random(seed)
    vocabulary = [word for word in phrases_dict if 2 <= len(word) <= 4]
    base = load([bundled_sample()]).entries
    places = [
        f"{a}{b}"
        for a in "东西南北中新丰安永宁"
        for b in ["州市", "阳县", "山区", "江区", "城县", "平市"]
    ]
    # Files of 20,000 entries (22 MB), under [knowledge] max_file_bytes, as an export would be.
    out = None
    try:
        for number in range(count):
            if number % 20_000 == 0:
                if out is not None:
                    out.close()
                out = (folder / f"generated-{number // 20_000:03d}.jsonl").open(
                    "w", encoding="utf-8"
                )
            entry = base[number % len(base)]
            place = places[(number // len(base)) % len(places)]
            extra = " ".join(rng.sample(vocabulary, 3))
            record = {
                "id": f"g{number}",
                "category": entry.category,
                "question": f"{place}{entry.question.rstrip('？?')}（{extra}）",
                "phrasings": [f"{place}{p}" for p in entry.phrasings[:2]],
                "answer": f"{entry.answer}\n\n{' '.join(rng.sample(vocabulary, 12))}",
                "source": {"title": entry.source.title, "url": f"{entry.source.url}/{number}"},
                "updated": str(entry.updated),
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if out is not None:
            out.close()


def scenario(kind: str, phase: str, folder: Path, entries: int, queries: int) -> dict:
    """In this process: ``build`` the index of the base into ``folder/index`` (as ``gateway kb
    build`` does), or ``start`` from it (as a gateway does) and search."""
    from gateway.config import KnowledgeConfig
    from gateway.knowledge import persist
    from gateway.knowledge.entries import bundled_sample
    from gateway.knowledge.tokenize import tokens

    tokens("预热")  # load the segmenter's dictionary before measuring
    baseline = rss_mb()
    paths = [str(folder / "base")] if kind == "generated" else [str(bundled_sample())]
    config = KnowledgeConfig(paths=paths, index_dir=str(folder / "index"), embedder="none")
    if phase == "build" and kind == "generated":
        (folder / "base").mkdir(exist_ok=True)
        generate(folder / "base", entries)
    started = time.perf_counter()
    index = persist.open_index(paths, config, None)
    opened = time.perf_counter() - started
    row = {"scenario": kind, "phase": phase, "entries": len(index.entries),
           "seconds": round(opened, 2)}  # fmt: skip
    if phase == "build":
        return row
    rng = random.Random(1)
    asked = [rng.choice(QUESTIONS) for _ in range(queries)]
    for question in QUESTIONS:
        index.search(question)
    latencies = []
    for question in asked:
        start = time.perf_counter()
        index.search(question, limit=4)
        latencies.append((time.perf_counter() - start) * 1000)
    return {
        **row,
        "rss_mb": round(rss_mb()),
        "rss_growth_mb": round(rss_mb() - baseline),
        "search_p50_ms": round(statistics.median(latencies), 3),
        "search_p99_ms": round(percentile(latencies, 0.99), 3),
        "queries": queries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=600_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--only", choices=["sample", "generated"])
    parser.add_argument("--phase", choices=["build", "start"], default="start")
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.only:
        row = scenario(args.only, args.phase, args.folder, args.entries, args.queries)
        print(json.dumps(row))
        return
    rows = []
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    for kind in ("sample", "generated"):
        with tempfile.TemporaryDirectory() as folder:
            for phase in ("build", "start"):
                command = [sys.executable, __file__, "--only", kind, "--phase", phase,
                           "--folder", folder, "--entries", str(args.entries),
                           "--queries", str(args.queries)]  # fmt: skip
                output = subprocess.run(
                    command,
                    check=True,
                    stdout=subprocess.PIPE,
                    text=True,
                    env={**os.environ, "PYTHONWARNINGS": "ignore"},
                ).stdout
                rows.append(json.loads(output.strip().splitlines()[-1]))
                print(rows[-1], f"load average: {os.getloadavg()}", file=sys.stderr)
    keys = list(rows[-1])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row.get(key, "")) for key in keys) + " |")


if __name__ == "__main__":
    main()
