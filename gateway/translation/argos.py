"""Argos Translate in process: CTranslate2 models from ``.argosmodel`` packages.

An optional extra (``pip install '.[argos]'``): argostranslate imports stanza and so torch, so it
is imported only when this engine is configured or its commands run, never by the gateway
otherwise. Packages are installed from local files with argostranslate's own package
management (``gateway translate install PATH``); they are never downloaded. Without a direct
package for a pair the engine pivots through English (zh → en → ko).

Argos's default sentence splitter, MiniSBD, downloads a model on first use. The engine never
uses it: it splits answers into sentences itself (they are short and well punctuated) and hands
argostranslate that splitter, so nothing is fetched at run time.
"""

from __future__ import annotations

import json
import os
import re
import threading
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field

from gateway.translation.base import TranslationError, Translator

INSTALL_HINT = "argostranslate is not installed: pip install 'gov-assistant[argos]'"

#: Gateway language codes that argos packages name differently.
_ARGOS_CODES = {"zh-Hant": "zt"}
_GATEWAY_CODES = {argos: gateway for gateway, argos in _ARGOS_CODES.items()}

# A sentence ends at Chinese/Japanese end punctuation, or at . ! ? followed by a space.
_SENTENCE_END = re.compile(r"(?<=[。！？；!?])\s*|(?<=[.…])\s+")


def split_sentences(text: str) -> list[str]:
    return [sentence for sentence in _SENTENCE_END.split(text) if sentence.strip()]


class ArgosOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Where packages are installed. Empty: ``ARGOS_PACKAGES_DIR``, else argos's default
    #: (``~/.local/share/argos-translate/packages``).
    packages_dir: str = ""
    #: ``cpu`` or ``cuda``.
    device: str = "cpu"
    #: Translations run in parallel (CTranslate2 ``inter_threads``).
    inter_threads: int = Field(1, ge=1)
    #: Threads per translation (CTranslate2 ``intra_threads``; 0: one per core).
    intra_threads: int = Field(0, ge=0)
    #: CTranslate2 compute type: ``auto``, ``int8``, ``float32`` …
    compute_type: str = "auto"
    #: The language to pivot through when there is no direct package.
    pivot: str = "en"


@dataclass(frozen=True, slots=True)
class PackageInfo:
    source: str
    target: str
    version: str
    path: Path


def use_packages_dir(packages_dir: str) -> None:
    """Point argostranslate at ``packages_dir`` (before or after it is imported)."""
    if not packages_dir:
        return
    path = Path(packages_dir).expanduser()
    os.environ["ARGOS_PACKAGES_DIR"] = str(path)
    import sys

    settings = sys.modules.get("argostranslate.settings")
    if settings is not None:
        path.mkdir(parents=True, exist_ok=True)
        settings.package_data_dir = path  # type: ignore[attr-defined]
        settings.package_dirs = [path]  # type: ignore[attr-defined]


def _package_module() -> ModuleType:
    try:
        import argostranslate.package as package
    except ImportError as exc:
        raise TranslationError(INSTALL_HINT, unsupported=True) from exc
    return package


def check_package_file(path: Path) -> dict[str, Any]:
    """The metadata of an ``.argosmodel`` file, after checking it holds a usable package."""
    if not path.is_file():
        raise TranslationError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise TranslationError(f"{path}: not an .argosmodel package (not a zip archive)")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        metadata_names = [
            name for name in names if name.count("/") == 1 and name.endswith("/metadata.json")
        ]
        if len(metadata_names) != 1:
            raise TranslationError(f"{path}: expected one folder with a metadata.json inside")
        root = metadata_names[0].split("/")[0]
        try:
            metadata = json.loads(archive.read(metadata_names[0]))
        except ValueError as exc:
            raise TranslationError(f"{path}: metadata.json is not valid JSON") from exc
    for key in ("from_code", "to_code"):
        if not isinstance(metadata, dict) or not metadata.get(key):
            raise TranslationError(f"{path}: metadata.json has no {key}")
    if f"{root}/model/model.bin" not in names:
        raise TranslationError(f"{path}: no CTranslate2 model (model/model.bin)")
    if f"{root}/sentencepiece.model" not in names and f"{root}/bpe.model" not in names:
        raise TranslationError(f"{path}: no tokenizer (sentencepiece.model or bpe.model)")
    return metadata


def install(path: str | Path, packages_dir: str = "") -> PackageInfo:
    """Install an ``.argosmodel`` file with argostranslate's own installer."""
    path = Path(path)
    metadata = check_package_file(path)
    use_packages_dir(packages_dir)
    package = _package_module()
    package.install_from_path(path)
    for info in installed(packages_dir):
        if (info.source, info.target) == (
            _gateway_code(metadata["from_code"]),
            _gateway_code(metadata["to_code"]),
        ):
            return info
    raise TranslationError(f"{path}: installed, but argostranslate does not list it")


def installed(packages_dir: str = "") -> list[PackageInfo]:
    use_packages_dir(packages_dir)
    package = _package_module()
    return sorted(
        (
            PackageInfo(
                _gateway_code(pkg.from_code),
                _gateway_code(pkg.to_code),
                pkg.package_version,
                Path(pkg.package_path),
            )
            for pkg in package.get_installed_packages()
            if pkg.type == "translate"
        ),
        key=lambda info: (info.source, info.target),
    )


def _gateway_code(argos_code: str) -> str:
    return _GATEWAY_CODES.get(argos_code, argos_code)


def _argos_code(gateway_code: str) -> str:
    return _ARGOS_CODES.get(gateway_code, gateway_code)


class ArgosTranslator(Translator):
    name = "argos"
    Options = ArgosOptions
    options: ArgosOptions

    def __init__(self, options: BaseModel | None = None) -> None:
        super().__init__(options)
        self._packages: dict[tuple[str, str], Any] | None = None
        self._translators: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._translate_module: ModuleType | None = None
        self._sentencizer: Any = None

    async def startup(self) -> None:
        await anyio.to_thread.run_sync(self._load)

    def _load(self) -> None:
        with self._lock:
            if self._packages is not None:
                return
            use_packages_dir(self.options.packages_dir)
            package = _package_module()
            try:
                # Imports stanza and torch: seconds, so only here, in a worker thread.
                import argostranslate.translate as translate
                from argostranslate.sbd import ISentenceBoundaryDetectionModel
            except ImportError as exc:
                raise TranslationError(INSTALL_HINT, unsupported=True) from exc

            class RuleSentencizer(ISentenceBoundaryDetectionModel):
                """Punctuation rules in place of MiniSBD, which would download a model."""

                def split_sentences(self, text: str) -> list[str]:
                    return split_sentences(text)

            self._translate_module = translate
            self._sentencizer = RuleSentencizer()
            self._packages = {
                (pkg.from_code, pkg.to_code): pkg
                for pkg in package.get_installed_packages()
                if pkg.type == "translate"
            }

    def pairs(self) -> set[tuple[str, str]]:
        """The installed direct pairs, in gateway codes."""
        self._load()
        assert self._packages is not None
        return {(_gateway_code(a), _gateway_code(b)) for a, b in self._packages}

    def route(self, source: str, target: str) -> list[Any]:
        """The packages that translate ``source`` into ``target``, pivoting when needed."""
        self._load()
        assert self._packages is not None
        a, b, pivot = _argos_code(source), _argos_code(target), _argos_code(self.options.pivot)
        if (a, b) in self._packages:
            return [self._packages[(a, b)]]
        if (a, pivot) in self._packages and (pivot, b) in self._packages:
            return [self._packages[(a, pivot)], self._packages[(pivot, b)]]
        raise TranslationError(
            f"argos: no package translates {source} → {target}, directly or through "
            f"{self.options.pivot}; install one with `gateway translate install`",
            unsupported=True,
        )

    def _translator(self, pkg: Any) -> Any:
        key = (pkg.from_code, pkg.to_code)
        with self._lock:
            if key not in self._translators:
                import ctranslate2

                self._translators[key] = ctranslate2.Translator(
                    str(Path(pkg.package_path) / "model"),
                    device=self.options.device,
                    inter_threads=self.options.inter_threads,
                    intra_threads=self.options.intra_threads,
                    compute_type=self.options.compute_type,
                )
            return self._translators[key]

    def translate_now(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate in the calling thread."""
        route = self.route(source, target)
        assert self._translate_module is not None
        apply = self._translate_module.apply_packaged_translation
        results = list(texts)
        for pkg in route:
            translator = self._translator(pkg)
            results = [
                apply(pkg, text, translator, self._sentencizer, 1)[0].value.strip()
                if text.strip()
                else text
                for text in results
            ]
        return results

    async def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        glossary: Mapping[str, str] | None = None,
    ) -> list[str]:
        try:
            return await anyio.to_thread.run_sync(self.translate_now, list(texts), source, target)
        except TranslationError:
            raise
        except Exception as exc:  # CTranslate2 and tokenizer errors are plain RuntimeErrors
            raise TranslationError(f"argos: {exc!r}") from exc
