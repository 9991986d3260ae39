"""Fixtures for the translation tests: argostranslate pointed at a throw-away home, and tiny
argos packages built by the tests themselves."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.translation.tiny_argos import NOTHING, build_package

PLACEHOLDERS = [f"ZQ{n}" for n in range(1, 10)]

#: Word-for-word lexicons of the tiny packages (``▁`` is SentencePiece's space).
LEXICONS = {
    ("zh", "en"): {
        "▁": NOTHING,
        "怎么": "▁how▁to",
        "办理": "▁apply▁for",
        "申请": "▁apply▁for",
        "带": "▁bring",
        "到": "▁at▁the",
        "在": "▁in▁the",
        "上": NOTHING,
        "和": "▁and",
        "。": ".",
    },
    ("en", "ko"): {
        "▁": NOTHING,
        "how": "▁어떻게",
        "to": NOTHING,
        "apply": "▁신청",
        "for": NOTHING,
        "bring": "▁지참",
        "at": NOTHING,
        "the": NOTHING,
        "in": NOTHING,
        "and": "▁및",
    },
    ("en", "zh"): {
        "▁": NOTHING,
        "i": NOTHING,
        "lost": "丢了",
        "my": NOTHING,
        "how": "怎么",
        "do": NOTHING,
        "replace": "补办",
        "it": NOTHING,
        ".": "。",
        "?": "？",
    },
}


def require_argos() -> None:
    """Skip without the argos extra, except in CI, where `make test` installs it."""
    try:
        import argostranslate.package  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("argostranslate is missing: `make test` installs the argos extra")
        pytest.skip("the argos extra is not installed (pip install '.[argos]')")


@pytest.fixture(scope="session")
def argos_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """argostranslate's data, config, cache and package folders in a temp folder: importing
    argostranslate.settings creates them, and nothing may touch the real home."""
    require_argos()
    home = tmp_path_factory.mktemp("argos-home")
    names = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "ARGOS_PACKAGES_DIR")
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ[name] = str(home / name.lower())
    yield home
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def argos_packages(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """``.argosmodel`` files, by language pair, built from ``LEXICONS``."""
    require_argos()
    folder = tmp_path_factory.mktemp("argos-packages")
    return {
        pair: build_package(folder, pair[0], pair[1], lexicon, PLACEHOLDERS)
        for pair, lexicon in LEXICONS.items()
    }
