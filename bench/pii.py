"""Personal-number masking on the question path (issue 18).

Times ``gateway.safety.pii.mask`` on questions as residents type them: short and long ones with
no number, with years and amounts (no personal number, but digits to look at), and with
personal numbers in the written forms residents use (spaced, dotted, full-width, Chinese
numerals, zero-width characters). Reports the median and 95th percentile in microseconds.
``--pii FILE`` times another version of the module (e.g. the one before a change:
``git show REV:gateway/safety/pii.py > /tmp/pii_old.py``).

    .venv/bin/python bench/pii.py [--pii FILE] [--rounds 20000]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable

QUESTIONS = {
    "short, no number": "居住证怎么办理？需要带什么材料？",
    "200 chars, years and amounts": (
        "我2025年搬来深圳，租房合同签了两年，想问一下居住证办理需要哪些材料，"
        "社保要交满几个月，每月3000元的工资够不够条件，办好以后孩子上学怎么申请？" * 3
    )[:200],
    "ID and mobile, plain": "我的身份证110105194912310020丢了，手机13812345678，怎么补办？",
    "written forms": (
        "身份证 110105 19491231 002X，手机138.1234.5678，座机０７５５ ６２３４ ５６３０，"
        "老人的电话是一三八一二三四五六七八，卡号6222\u200b0200 0000 0000 000"
    ),
    "200 chars, no digit": ("请问在哪里办居住证，要本人到场吗，可以家人代办吗？" * 10)[:200],
}


def load(path: str | None) -> Callable[[str], object]:
    if path is None:
        from gateway.safety.pii import mask

        return mask
    spec = importlib.util.spec_from_file_location("pii_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pii", help="a pii.py file to time instead of the gateway's")
    parser.add_argument("--rounds", type=int, default=20000)
    args = parser.parse_args()
    mask = load(args.pii)
    print("| question | chars | p50 µs | p95 µs |")
    print("|---|---|---|---|")
    for name, text in QUESTIONS.items():
        for _ in range(200):
            mask(text)
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter_ns()
            mask(text)
            times.append(time.perf_counter_ns() - started)
        times.sort()
        p50 = statistics.median(times) / 1000
        p95 = times[int(len(times) * 0.95)] / 1000
        print(f"| {name} | {len(text)} | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
