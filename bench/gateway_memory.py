"""Where a gateway process's memory goes, step by step, in one fresh process.

    python bench/gateway_memory.py

Resident memory (RSS) after each of: importing the gateway, loading langdetect's language
profiles, importing pypinyin (its phrase dictionary), building the shared lexicon (jieba's
dictionary with the curated terms), building the default understanding pipeline, teaching it the
bundled knowledge base with its FAQ index, and building the safety review. Each figure is the
growth over the step before.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    process = psutil.Process()
    last = process.memory_info().rss

    def step(name: str) -> None:
        nonlocal last
        gc.collect()
        rss = process.memory_info().rss
        print(f"{name:<44} +{(rss - last) / 2**20:6.0f} MB   RSS {rss / 2**20:5.0f} MB")
        last = rss

    print(f"{'interpreter':<44} {'':8}   RSS {last / 2**20:5.0f} MB")
    import gateway.app  # noqa: F401

    step("import gateway.app")
    from langdetect import detector_factory

    detector_factory.init_factory()
    step("langdetect's language profiles")
    import pypinyin  # noqa: F401

    step("pypinyin (its phrase dictionary)")
    from gateway.understanding.lexicon import base_lexicon

    base_lexicon()
    step("shared lexicon (jieba's dictionary, terms)")
    from gateway.config import Settings
    from gateway.services import Services
    from gateway.understanding.pipeline import Pipeline

    settings = Settings()
    pipeline = Pipeline.from_config(settings.understanding)
    step("understanding stages' own indexes")
    services = Services(settings)
    pipeline.learn(asyncio.run(services.knowledge()))
    step("knowledge base, FAQ index, learning it")
    from gateway.safety.review import Safety

    Safety.from_settings(settings)
    step("safety review (lexicons, screens)")


if __name__ == "__main__":
    main()
