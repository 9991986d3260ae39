"""Speed and memory of the understanding pipeline (no translation, no back end).

    python bench/pipeline.py                 # build time, memory, latency by kind of question
    python bench/pipeline.py --rounds 200    # fewer rounds

Run in a fresh process: *build* is constructing the configured pipeline (jieba's dictionary,
the curated terms, the pinyin and correction indexes, langdetect's profiles, the Cantonese map)
plus teaching it the bundled knowledge base; *RSS growth* is resident memory after the build
minus the interpreter's with the libraries imported. Latency is ``Pipeline.run`` on 27-29 character
questions of each kind after one warm-up pass (with the corrector's memory of earlier lookups
dropped before each run, so repeats are not cheaper than new questions), then on 3,000 distinct
30-character questions each run once; median and 99th percentile: wall time, and the thread's
CPU time (what the pipeline itself costs when other processes share the cores). These runs keep
no analyses (``cache_size`` 0), so every one is a real analysis; the last row is the same
distinct questions asked a second time with the configured cache of recent analyses.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTIONS = {
    "Simplified, correct": [
        "我是外地户口在本市工作了三年想办理居住证需要准备哪些材料",
        "灵活就业人员的养老保险和医疗保险每个月应该怎么交费交多少",
        "公积金贷款买二手房需要满足什么条件最多可以贷多少钱能贷几年",
        "孩子今年九月上小学外地户口需要提供哪些证明材料去哪里报名",
        "退休以后医保还需要继续交吗个人账户里的钱可以给家里人用吗",
    ],
    "Simplified, with typos": [
        "我是外地户口在本市工作了三年想办理居住正需要准备哪些材料",
        "灵活就业人员的养老保险和医疗保现每个月应该怎么交费交多少",
        "公积全贷款买二手房需要满足什么条件最多可以贷多少钱能贷几年",
        "孩子今年九月上小学外地护口需要提供哪些证明材料去哪里报名",
        "退休以后医保还需要继续交吗个人账户里的钱可以给家里人用吗",
    ],
    "Traditional": [
        "我是外地戶口在本市工作了三年想辦理居住證需要準備哪些材料",
        "靈活就業人員的養老保險和醫療保險每個月應該怎麼交費交多少",
        "公積金貸款買二手房需要滿足什麼條件最多可以貸多少錢能貸幾年",
    ],
    "Cantonese": [
        "我係外地人喺呢度返工三年想問下點樣申請居住證要帶咩文件",
        "佢哋話公積金可以攞嚟交租唔知係咪真係得要點樣申請先得呀",
        "我阿媽退休咗之後醫保卡仲有冇錢可唔可以幫佢睇醫生買藥呀",
    ],
    "pinyin": [
        "shebaoka diule zenme buban ne",
        "gongjijin daikuan tiaojian ne",
        "juzhuzheng zai nali banli a",
    ],
    "English": [
        "How can I renew my work visa?",
        "Where do I get a residence ID",
        "I lost my passport what to do",
    ],
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000, help="runs of each question")
    parser.add_argument("--distinct", type=int, default=3000, help="distinct questions to run")
    args = parser.parse_args()
    process = psutil.Process()

    import langdetect  # noqa: F401  the libraries, so their import is not counted as growth
    import opencc  # noqa: F401
    import pypinyin  # noqa: F401

    from gateway.config import Settings, UnderstandingConfig
    from gateway.knowledge import entries
    from gateway.services import Services
    from gateway.understanding.pipeline import Pipeline

    gc.collect()
    baseline = process.memory_info().rss
    knowledge = entries.load(Services(Settings()).knowledge_paths)
    started = time.perf_counter()
    pipeline = Pipeline.from_config(UnderstandingConfig())
    built = time.perf_counter() - started
    pipeline.learn(knowledge)
    learned = time.perf_counter() - started
    cache_size, pipeline.cache_size = pipeline.cache_size, 0
    gc.collect()
    rss = process.memory_info().rss
    correct = [stage for stage in pipeline.stages if hasattr(stage, "forget")]

    def forget() -> None:
        for stage in correct:
            stage.forget()

    print(f"build {built:.2f} s, with the knowledge base {learned:.2f} s")
    print(f"RSS {rss / 2**20:.0f} MB, growth {(rss - baseline) / 2**20:.0f} MB\n")
    print("| questions | characters | p50 ms | p99 ms | CPU p50 ms | CPU p99 ms |")
    print("|---|---|---|---|---|---|")
    everything: list[float] = []
    everything_cpu: list[float] = []
    for kind, questions in QUESTIONS.items():
        for question in questions:
            pipeline.run(question)  # warm-up
        timings, cpu = [], []
        for _ in range(args.rounds):
            for question in questions:
                forget()
                start, start_cpu = time.perf_counter(), time.thread_time()
                pipeline.run(question)
                cpu.append((time.thread_time() - start_cpu) * 1000)
                timings.append((time.perf_counter() - start) * 1000)
        if kind not in {"pinyin", "English"}:
            everything += timings
            everything_cpu += cpu
        chars = statistics.mean(len(q) for q in questions)
        print(f"| {kind} | {chars:.0f} | {row(timings)} | {row(cpu)} |")
    print(f"| all Chinese above | 28 | {row(everything)} | {row(everything_cpu)} |")

    # Distinct questions, each seen once: 30 characters cut from the development set's Chinese
    # questions strung together (typos, Traditional, Cantonese and correct ones alike).
    timings, cpu = [], []
    for question in distinct_questions(args.distinct):
        forget()  # they are cut from the same few hundred questions: no help from earlier ones
        start, start_cpu = time.perf_counter(), time.thread_time()
        pipeline.run(question)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        timings.append((time.perf_counter() - start) * 1000)
    print(f"| {args.distinct} distinct questions | 30 | {row(timings)} | {row(cpu)} |")

    pipeline.cache_size = max(cache_size, args.distinct)
    asked = distinct_questions(args.distinct)
    for question in asked:
        pipeline.run(question)
    timings, cpu = [], []
    for question in asked:
        start, start_cpu = time.perf_counter(), time.thread_time()
        pipeline.run(question)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        timings.append((time.perf_counter() - start) * 1000)
    print(f"| the same, asked again (cache) | 30 | {row(timings)} | {row(cpu)} |")


def distinct_questions(count: int) -> list[str]:
    from bench.quality import load_cases

    chinese = [
        case.text
        for case in load_cases()
        if case.category.startswith(("typo", "traditional", "cantonese", "unchanged"))
    ]
    chooser = random.Random(0)
    questions: set[str] = set()
    while len(questions) < count:
        text = ""
        while len(text) < 30:
            text += chooser.choice(chinese)
        questions.add(text[:30])
    return sorted(questions, key=lambda _: chooser.random())


def row(timings: list[float]) -> str:
    return f"{statistics.median(timings):.3f} | {percentile(timings, 0.99):.3f}"


if __name__ == "__main__":
    main()
