"""The engine that translates nothing: residents get curated translations or the Chinese answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gateway.translation.base import TranslationError, Translator


class NoTranslator(Translator):
    name = "none"

    async def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        glossary: Mapping[str, str] | None = None,
    ) -> list[str]:
        raise TranslationError("no translation engine is configured", unsupported=True)
