"""A writable copy of the bundled sample knowledge base, and an entry to add to it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gateway.knowledge.entries import bundled_sample

#: Not in the sample: the sample cannot answer 狗证怎么办 until it is added.
DOG_ENTRY = {
    "id": "pet-dog-registration",
    "category": "household_registration",
    "question": "养狗需要办理犬只登记吗？",
    "phrasings": ["狗证怎么办", "犬只登记"],
    "answer": "需要。请携带身份证和犬只免疫证明到所在地公安机关办理**犬只登记**。",
    "source": {"title": "犬只登记（示例）", "url": "https://zwfw.example.org/guide/dog"},
    "updated": "2026-11-01",
}


def sample_copy(folder: Path) -> Path:
    kb = folder / "kb"
    shutil.copytree(bundled_sample(), kb)
    return kb


def add_dog_entry(kb: Path) -> None:
    (kb / "pets.jsonl").write_text(json.dumps(DOG_ENTRY, ensure_ascii=False) + "\n")
