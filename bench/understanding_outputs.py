"""Every analysis the default pipeline makes of a fixed set of questions, as JSON: to show that a
speed-up changed no result.

    python bench/understanding_outputs.py --save var/outputs.json      # before the change
    python bench/understanding_outputs.py --compare var/outputs.json   # after: same bytes?

The questions: every text of the development and fresh sets (tests/data/understanding*.tsv),
bench/pipeline.py's questions and its 3,000 distinct ones, and every question, phrasing and
translated question of the bundled knowledge base, each in the UI locales zh-CN and en, run
by the default pipeline taught the bundled knowledge base (as bench/pipeline.py runs it) with
no cache of analyses. Each question is analysed twice: once after the correction stage's memory
of earlier lookups is dropped, once with everything remembered from the questions before it —
the two must agree, so a memo that leaks one question into another fails here too.
The dump holds the whole ``Analysis``: text, language, corrections, notes and trace.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline import QUESTIONS, distinct_questions  # noqa: E402
from bench.quality import DATA, FRESH, FRESH2, load_cases  # noqa: E402
from gateway.config import Settings  # noqa: E402
from gateway.knowledge import entries  # noqa: E402
from gateway.services import Services  # noqa: E402
from gateway.understanding.base import Analysis  # noqa: E402
from gateway.understanding.pipeline import Pipeline  # noqa: E402

LOCALES = ("zh-CN", "en")


def questions() -> list[str]:
    """The questions, each once, in a fixed order."""
    texts = [case.text for path in (DATA, FRESH, FRESH2) for case in load_cases(path)]
    texts += [question for kind in QUESTIONS.values() for question in kind]
    # Sorted: the benchmark draws them in an order that varies with the hash seed.
    texts += sorted(distinct_questions(3000))
    knowledge = entries.load(Services(Settings()).knowledge_paths)
    for entry in knowledge.entries:
        texts += [entry.question, *entry.phrasings]
        texts += [translation.question for translation in entry.translations.values()]
    return list(dict.fromkeys(texts))


def _plain(value: Any) -> Any:
    """Notes hold dataclasses (the pinyin conversion): their fields, by name."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__, **dataclasses.asdict(value)}
    return value


def record(analysis: Analysis) -> dict[str, Any]:
    return {
        "original": analysis.original,
        "locale": analysis.locale,
        "text": analysis.text,
        "language": analysis.language,
        "autocorrected": analysis.autocorrected,
        "corrections": [dataclasses.asdict(c) for c in analysis.corrections],
        "notes": {key: _plain(value) for key, value in sorted(analysis.notes.items())},
        "trace": [dataclasses.asdict(step) for step in analysis.trace],
    }


def dump() -> list[dict[str, Any]]:
    knowledge = entries.load(Services(Settings()).knowledge_paths)
    pipeline = Pipeline.from_config(Settings().understanding)
    pipeline.learn(knowledge)
    pipeline.cache_size = 0
    forgetting = [stage for stage in pipeline.stages if hasattr(stage, "forget")]
    records = []
    for locale in LOCALES:
        for text in questions():
            remembered = record(pipeline.run(text, locale))
            for stage in forgetting:
                stage.forget()
            fresh = record(pipeline.run(text, locale))
            if fresh != remembered:
                raise SystemExit(f"remembered lookups changed the analysis of {text!r} ({locale})")
            records.append(fresh)
    return records


def encode(records: list[dict[str, Any]]) -> bytes:
    # repr-exact floats (json writes the shortest repr), so a score that moves in its last
    # digit is a difference.
    return json.dumps(records, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the analyses here")
    group.add_argument("--compare", type=Path, help="compare with the analyses saved here")
    args = parser.parse_args()
    records = dump()
    data = encode(records)
    digest = hashlib.sha256(data).hexdigest()[:16]
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_bytes(data)
        print(f"{len(records)} analyses saved to {args.save} (sha256 {digest})")
        return
    saved = args.compare.read_bytes()
    expected = json.loads(saved)
    if not expected:
        raise SystemExit(f"{args.compare} holds no analyses: nothing to compare")
    if saved == data:
        print(f"{len(records)} analyses identical to {args.compare} (sha256 {digest})")
        return
    differing = [(old, new) for old, new in zip(expected, records, strict=False) if old != new]
    for old, new in differing[:5]:
        print(f"- {json.dumps(old, ensure_ascii=False)}\n+ {json.dumps(new, ensure_ascii=False)}")
    raise SystemExit(
        f"{len(differing)} of {len(records)} analyses differ "
        f"({len(expected)} saved; sha256 {digest})"
    )


if __name__ == "__main__":
    main()
