"""Sensitive-word review at the scale of a national regulator's lexicon.

Generates a synthetic lexicon of 1,050,000 terms (2–8 common Chinese characters, a few Latin
words, mixed actions) into a temporary TSV file, builds a ``Lexicon`` from the file (reading,
normalizing and the Aho-Corasick automaton), then scans 200-character texts — Traditional and
Simplified, with and without planted terms and noise characters — and reports the median and
95th percentile scan time. Targets (issue 8): build ≤ 10 s, scan p50 ≤ 0.2 ms.

Then the review of a streamed answer (issue 18): a service answer of ``--stream-chars``
characters reviewed by ``StreamReview`` in pieces of 1, 4 and 16 characters and whole, CPU time
(best of three), with the same lexicon; the cost must grow with the answer's length, not its
square.

    .venv/bin/python bench/safety.py [--terms 1050000] [--scans 20000] [--stream-chars 16000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import opencc

from gateway.backends.base import Answer, Delta, Query
from gateway.config import SafetyConfig
from gateway.safety.audit import AuditLog
from gateway.safety.lexicon import Lexicon
from gateway.safety.normalize import table
from gateway.safety.review import Safety, StreamReview


def common_characters() -> str:
    """The 3,755 level-1 characters of GB 2312: the commonly used Chinese characters."""
    chars = []
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


LATIN = ["spam", "scam", "fraud", "casino", "darkweb", "phish", "botnet", "malware"]


def synthetic_lexicon(path: Path, terms: int, rng: random.Random) -> list[str]:
    """Terms of 2–8 characters drawn at random from the common characters (a hard case for
    the automaton: random terms share few prefixes), one in 5,000 a Latin word; actions
    mostly ``block``."""
    chars = common_characters()
    actions = ["block"] * 6 + ["mask"] * 3 + ["review"]
    lengths = [2] + [3] * 3 + [4] * 3 + [5] * 2 + [6, 7, 8]
    samples: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        out.write("# synthetic lexicon for bench/safety.py\n")
        for number in range(terms):
            if number % 5000 == 0:
                term = f"{rng.choice(LATIN)}{number}"
            else:
                term = "".join(rng.choices(chars, k=rng.choice(lengths)))
            out.write(f"{term}\tc{number % 40}\t{rng.choice(actions)}\n")
            if number % 1000 == 0:
                samples.append(term)
    return samples


def service_text() -> str:
    """The bundled knowledge base's answers: real government-service Chinese."""
    folder = Path(__file__).resolve().parent.parent / "gateway" / "data" / "kb" / "sample"
    answers = []
    for file in sorted(folder.glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                answers.append(json.loads(line)["answer"])
    return "".join(answers)


def texts(samples: list[str], count: int, rng: random.Random) -> dict[str, list[str]]:
    """200-character texts of four kinds."""
    corpus = service_text()
    traditional = opencc.OpenCC("s2t").convert(corpus)

    def window(source: str) -> str:
        start = rng.randrange(0, len(source) - 200)
        return source[start : start + 200]

    kinds: dict[str, list[str]] = {"service": [], "traditional": [], "planted": [], "noisy": []}
    for _ in range(count // 4):
        kinds["service"].append(window(corpus))
        kinds["traditional"].append(window(traditional))
        term = " ".join(rng.choice(samples))  # a lexicon term with spaces between characters
        body = window(corpus)
        kinds["planted"].append((body[:90] + term + body[90:])[:200])
        kinds["noisy"].append(("ＡＢＣ，ｄｅｆ！ Please help: 居住证 ＋ 社保卡？ " * 6)[:200])
    return kinds


def percentile(sorted_ns: list[int], share: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * share))] / 1e6


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def stream_review(lexicon: Lexicon, text: str, size: int) -> float:
    """CPU seconds (best of three) to review ``text`` arriving in pieces of ``size``."""
    safety = Safety(SafetyConfig(), AuditLog(None), lexicon)
    question = Query(text="问题", original="问题", session_id="bench", locale="zh-CN")
    pieces = [Delta(text[i : i + size]) for i in range(0, len(text), size)]
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        review = StreamReview(safety, question)
        for piece in pieces:
            review.feed(piece)
        review.finish(Answer(text=text))
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--terms", type=int, default=1_050_000)
    parser.add_argument("--scans", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--stream-chars", type=int, default=16_000)
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    table()  # the normalization table is built once per process, at start-up
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lexicon.tsv"
        samples = synthetic_lexicon(path, arguments.terms, rng)
        size_mb = os.path.getsize(path) / 1e6
        before = rss_mb()
        started = time.perf_counter()
        lexicon = Lexicon.from_files([path])
        build = time.perf_counter() - started
        memory = rss_mb() - before
    corpus = texts(samples, arguments.scans, rng)
    for kind_texts in corpus.values():  # warm-up
        for text in kind_texts[:200]:
            lexicon.scan(text)
    everything: list[int] = []
    rows = []
    for kind, kind_texts in corpus.items():
        timings = []
        matched = 0
        for text in kind_texts:
            started_ns = time.perf_counter_ns()
            matches = lexicon.scan(text)
            timings.append(time.perf_counter_ns() - started_ns)
            matched += bool(matches)
        timings.sort()
        everything.extend(timings)
        rows.append(
            (
                kind,
                statistics.median(timings) / 1e6,
                percentile(timings, 0.95),
                matched,
                len(kind_texts),
            )
        )
    everything.sort()
    print(f"lexicon file         {arguments.terms:,} lines, {size_mb:.1f} MB")
    print(f"distinct terms       {len(lexicon):,}, longest {lexicon.longest} characters")
    print(f"build (read+automaton) {build:.2f} s   target ≤ 10 s;  memory +{memory:.0f} MB")
    print("scan of a 200-character text:")
    for kind, p50, p95, matched, total in rows:
        print(
            f"  {kind:<12} p50 {p50:.4f} ms  p95 {p95:.4f} ms  texts with a match {matched}/{total}"
        )
    p50_all = statistics.median(everything) / 1e6
    print(
        f"  {'all':<12} p50 {p50_all:.4f} ms  p95 {percentile(everything, 0.95):.4f} ms"
        "   target p50 ≤ 0.2 ms"
    )
    answer = (service_text() * 2)[: arguments.stream_chars]
    whole = stream_review(lexicon, answer, len(answer))
    print(f"review of a streamed answer of {len(answer):,} characters (CPU, best of 3):")
    print(f"  whole          {whole * 1000:8.1f} ms")
    for size in (16, 4, 1):
        cost = stream_review(lexicon, answer, size)
        print(f"  {size:>2}-char pieces {cost * 1000:8.1f} ms  ({cost / whole:.1f}× whole)")
    half = stream_review(lexicon, answer[: len(answer) // 2], 1)
    print(f"  half as long, 1-char pieces {half * 1000:.1f} ms (linear: about half)")


if __name__ == "__main__":
    main()
