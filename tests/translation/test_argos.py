"""The argos engine end to end: tiny packages built here, installed from .argosmodel files by
argostranslate's own installer, loaded, pivoted through English and translated for real."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest

from gateway.translation import argos
from gateway.translation.argos import ArgosOptions, ArgosTranslator, split_sentences
from gateway.translation.base import TranslationError
from gateway.translation.cache import MemoryCache
from gateway.translation.glossary import Glossary
from tests.processes import script

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def installed(argos_home: Path, argos_packages: dict[tuple[str, str], Path]) -> Path:
    packages_dir = argos_home / "installed"
    for path in argos_packages.values():
        argos.install(path, str(packages_dir))
    return packages_dir


@pytest.fixture(scope="module")
def engine(installed: Path) -> ArgosTranslator:
    translator = ArgosTranslator(ArgosOptions(packages_dir=str(installed), intra_threads=1))
    # In a thread of its own: the anyio test runner may already own this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, translator.startup).result()
    return translator


def service_with(engine: ArgosTranslator):  # type: ignore[no-untyped-def]
    from gateway.config import load_settings
    from gateway.services import Services
    from gateway.translation.service import TranslationService

    settings = load_settings(None, environ={})
    return TranslationService(
        settings.translation, Services(settings), engine, Glossary.load(), MemoryCache()
    )


def test_the_command_line_installs_and_lists_packages(
    argos_home: Path, argos_packages: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    config = tmp_path / "gateway.toml"
    packages_dir = tmp_path / "packages"
    config.write_text(f'[translation.options.argos]\npackages_dir = "{packages_dir}"\n')
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    for pair in (("zh", "en"), ("en", "ko")):
        done = subprocess.run(
            [
                script("gateway"),
                "translate",
                "--config",
                str(config),
                "install",
                str(argos_packages[pair]),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert f"installed {pair[0]} → {pair[1]} (version 1.0)" in done.stdout
    assert (packages_dir / "translate-zh_en-1_0" / "model" / "model.bin").is_file()
    listing = subprocess.run(
        [script("gateway"), "translate", "--config", str(config), "list"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "en → ko\t1.0" in listing and "zh → en\t1.0" in listing
    assert "through English: zh → ko" in listing


def test_installing_something_that_is_not_a_package_says_why(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.argosmodel"
    bogus.write_text("not a zip")
    done = subprocess.run(
        [script("gateway"), "translate", "install", str(bogus)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "not an .argosmodel package" in done.stderr


async def test_a_direct_pair_translates_with_the_glossary_protecting_official_terms(
    engine: ArgosTranslator,
) -> None:
    service = service_with(engine)
    [english] = await service.translate(["居住证怎么办理？"], "zh", "en")
    # The model knows 怎么 and 办理 but not 居住证: the glossary carried it through.
    assert english == "residence permit how to apply for?"
    [raw] = await engine.translate(["居住证怎么办理？"], "zh", "en")
    assert "residence permit" not in raw


async def test_a_missing_pair_pivots_through_english(engine: ArgosTranslator) -> None:
    assert [pkg.to_code for pkg in engine.route("zh", "ko")] == ["en", "ko"]
    service = service_with(engine)
    [korean] = await service.translate(["居住证怎么办理？"], "zh", "ko")
    assert korean == "거주증 어떻게 신청?"


async def test_markdown_answers_keep_their_structure(engine: ArgosTranslator) -> None:
    service = service_with(engine)
    [english] = await service.translate(
        ["**办理流程**：\n1. 带**身份证**到派出所办理。\n2. 在**“交管12123”App**上申请。"],
        "zh",
        "en",
    )
    lines = english.split("\n")
    assert lines[1] == "1. bring resident ID card at the police station apply for."
    assert lines[2].startswith("2. in the") and "Traffic Management 12123 app" in lines[2]


async def test_a_pair_without_packages_is_reported_as_unsupported(
    engine: ArgosTranslator,
) -> None:
    with pytest.raises(TranslationError) as raised:
        await engine.translate(["你好"], "zh", "th")
    assert raised.value.unsupported


async def test_nothing_is_downloaded_for_sentence_splitting(
    engine: ArgosTranslator, argos_home: Path
) -> None:
    await engine.translate(["怎么办理。怎么申请。"], "zh", "en")
    downloaded = [p for p in argos_home.rglob("*") if p.suffix == ".onnx" or "minisbd" in p.parts]
    assert [p for p in downloaded if p.is_file()] == []


def test_sentences_are_split_at_end_punctuation() -> None:
    assert split_sentences("先登记。再申请！可以吗？好的") == [
        "先登记。",
        "再申请！",
        "可以吗？",
        "好的",
    ]
    assert split_sentences("Bring your ID. Then apply online! Done") == [
        "Bring your ID.",
        "Then apply online!",
        "Done",
    ]


def test_the_gateway_does_not_import_argostranslate_unless_configured() -> None:
    code = (
        "import sys; from gateway.app import create_app; from gateway.config import "
        "load_settings; create_app(load_settings(None, environ={}));"
        "print('argostranslate' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


async def test_the_gateway_answers_an_english_question_through_argos(
    serve_app, installed: Path
) -> None:
    # The question is translated for a back end without dense retrieval (with it, the faq back
    # end reads the resident's own English).
    config = f"""
[knowledge]
embedder = "none"

[translation]
engine = "argos"

[translation.options.argos]
packages_dir = "{installed}"
intra_threads = 1
"""
    async with serve_app(config) as client:
        reply = await client.post(
            "/api/v1/chat",
            json={"message": "I lost my driving license. How do I replace it?", "lang": "en"},
        )
    body = reply.json()
    assert body["found"] and body["language"] == "en"
    assert body["original_answer"].startswith("- **网上补证**")
    assert [notice["code"] for notice in body["notices"]] == ["machine_translated"]
    assert "Traffic Management 12123 app" in body["answer"]
    assert body["answer"].split("\n")[1].startswith("- ")
