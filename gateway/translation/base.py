"""The ``Translator`` interface every translation engine implements, and language codes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import ClassVar

from pydantic import BaseModel

from gateway.extensions import Extension

#: Language tags that are Chinese for the back ends: the understanding stages turn pinyin,
#: Traditional script and Cantonese into Simplified Chinese before a back end reads them.
CHINESE_TAGS = frozenset({"zh", "yue", "pinyin", "cmn", "wuu", "zh-hans", "zh-hant", "lzh"})

#: English names for prompts and messages to operators.
LANGUAGE_NAMES = {
    "zh": "Simplified Chinese",
    "zh-Hant": "Traditional Chinese",
    "en": "English",
    "ko": "Korean",
    "ja": "Japanese",
    "vi": "Vietnamese",
    "th": "Thai",
    "ru": "Russian",
    "fr": "French",
    "es": "Spanish",
    "de": "German",
    "pt": "Portuguese",
    "ar": "Arabic",
    "id": "Indonesian",
    "ms": "Malay",
    "lo": "Lao",
    "km": "Khmer",
    "my": "Burmese",
    "mn": "Mongolian",
    "ne": "Nepali",
    "hi": "Hindi",
    "ur": "Urdu",
    "fa": "Persian",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "kk": "Kazakh",
    "fil": "Filipino",
}


def language_of(tag: str | None) -> str | None:
    """The gateway's code for a language tag: ``zh`` for every form of Chinese, otherwise the
    primary subtag in lower case (``en-GB`` → ``en``)."""
    if not tag:
        return None
    tag = tag.strip().replace("_", "-").lower()
    if tag in CHINESE_TAGS or tag.split("-")[0] in CHINESE_TAGS:
        return "zh"
    return tag.split("-")[0] or None


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


class TranslationError(Exception):
    """The engine could not translate: it is unreachable, failed, or lacks the language pair
    (``unsupported``). The gateway then falls back to curated or untranslated text."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


class Translator(Extension, ABC):
    """A machine translation engine. Subclasses set ``name`` and, when configurable,
    ``Options`` (validated from ``[translation.options.<name>]``)."""

    name: ClassVar[str]
    #: True when the engine keeps Markdown itself; otherwise the gateway sends it plain
    #: sentences and puts the Markdown structure back around the translations.
    keeps_markdown: ClassVar[bool] = False

    def __init__(self, options: BaseModel | None = None) -> None:
        self.options = options if options is not None else self.Options()

    async def startup(self) -> None:
        """Load models, open clients. Called once before the first question."""

    async def aclose(self) -> None:
        """Release what :meth:`startup` opened."""

    @abstractmethod
    async def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        glossary: Mapping[str, str] | None = None,
    ) -> list[str]:
        """``texts`` translated from ``source`` into ``target`` (gateway codes: ``zh``, ``en``
        …), one result per text, in order.

        Official terms in the texts have been replaced by placeholders (``ZQ1`` …) that must
        come back unchanged; ``glossary`` maps each placeholder to the term it stands for in
        ``target``, for engines that can use the context. Raise :class:`TranslationError`."""
