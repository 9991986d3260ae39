"""Sensitive-word review at the scale of a national regulator's lexicon.

Generates a synthetic lexicon of 1,050,000 terms (2–8 common Chinese characters, a few Latin
words, mixed actions) into a temporary TSV file, builds a ``Lexicon`` from the file (reading,
normalizing and the Aho-Corasick automaton), then scans 200-character texts — Traditional and
Simplified, with and without planted terms and noise characters — and reports the median and
95th percentile scan time. Targets (issue 8): build ≤ 10 s, scan p50 ≤ 0.2 ms.

    .venv/bin/python bench/safety.py [--terms 1050000] [--scans 20000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.safety.lexicon import Lexicon
from gateway.safety.normalize import table

# Common characters of government-service text, so that planted and accidental matches occur.
CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子"
    "说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机"
    "当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心"
    "反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程"
    "展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期"
    "根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志"
    "世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每"
    "目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律"
    "叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感"
    "劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片"
    "始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"
)
TRADITIONAL = "請問居住證怎麼辦理，需要帶什麼材料？社會保險卡丟了要去哪裡補辦？戶口遷移證明"
LATIN = ["spam", "scam", "fraud", "casino", "darkweb", "phish", "botnet", "malware"]


def synthetic_lexicon(path: Path, terms: int, rng: random.Random) -> list[str]:
    actions = ["block"] * 6 + ["mask"] * 3 + ["review"]
    written: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        out.write("# synthetic lexicon for bench/safety.py\n")
        for number in range(terms):
            if number % 5000 == 0:
                term = f"{rng.choice(LATIN)}{number}"
            else:
                term = "".join(rng.choices(CHARS, k=rng.randint(2, 8)))
            category = f"c{number % 40}"
            out.write(f"{term}\t{category}\t{rng.choice(actions)}\n")
            if number % 1000 == 0:
                written.append(term)
    return written


def texts(samples: list[str], count: int, rng: random.Random) -> list[str]:
    result = []
    for number in range(count):
        kind = number % 4
        if kind == 0:  # ordinary Simplified text
            text = "".join(rng.choices(CHARS, k=200))
        elif kind == 1:  # Traditional text
            text = (TRADITIONAL * 5)[:200]
        elif kind == 2:  # a planted term with noise characters between its characters
            term = " ".join(rng.choice(samples))
            body = "".join(rng.choices(CHARS, k=200))
            text = (body[:90] + term + body[90:])[:200]
        else:  # full-width, mixed case, punctuation
            text = ("ＡＢＣ，ｄｅｆ！ Please help: 居住证 ＋ 社保卡？ " * 6)[:200]
        result.append(text)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--terms", type=int, default=1_050_000)
    parser.add_argument("--scans", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=8)
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    table()  # the normalization table is built once per process, at start-up
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lexicon.tsv"
        samples = synthetic_lexicon(path, arguments.terms, rng)
        size_mb = os.path.getsize(path) / 1e6
        started = time.perf_counter()
        lexicon = Lexicon.from_files([path])
        build = time.perf_counter() - started
    corpus = texts(samples, arguments.scans, rng)
    for text in corpus[:500]:  # warm-up
        lexicon.scan(text)
    timings = []
    found = 0
    for text in corpus:
        started = time.perf_counter_ns()
        matches = lexicon.scan(text)
        timings.append(time.perf_counter_ns() - started)
        found += bool(matches)
    timings.sort()
    p50 = statistics.median(timings) / 1e6
    p95 = timings[int(len(timings) * 0.95)] / 1e6
    print(f"terms in file        {arguments.terms:,} ({size_mb:.1f} MB)")
    print(f"distinct terms       {len(lexicon):,}, longest {lexicon.longest} characters")
    print(f"build (read+automaton) {build:.2f} s   target ≤ 10 s")
    print(f"scan 200 chars  p50  {p50:.4f} ms  p95 {p95:.4f} ms   target p50 ≤ 0.2 ms")
    print(f"texts with a match   {found:,} of {len(corpus):,}")


if __name__ == "__main__":
    main()
