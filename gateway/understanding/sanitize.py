"""Sanitize: refuse what is not text, drop invisible characters, cap the length; and, before
any stage, :func:`readable`: text with the characters nothing can encode taken out."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from gateway.errors import GatewayError
from gateway.understanding.base import Analysis, Stage

# Categories that never belong in a question: controls, unassigned, private use, surrogates.
_NON_TEXT = {"Cc", "Cn", "Co", "Cs"}
_LINE_BREAKS = {"\n", "\r", "\t", "\v", "\f", "\x85", "\u2028", "\u2029"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def readable(text: str) -> str:
    """``text`` without lone surrogates. JSON may write one (``"\\ud800"``, half of an emoji
    cut off by a client's length limit) and Python's JSON reader keeps it, but no stage, log,
    database or response can encode it, so it is taken out before anything reads the text —
    the question is answered rather than refused for a character that carries nothing."""
    return _SURROGATE.sub("", text) if _SURROGATE.search(text) else text


class SanitizeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Longest question accepted, in characters, after invisible characters are removed.
    max_chars: int = 1000
    #: Share of non-text characters above which the input is refused as binary.
    max_non_text_ratio: float = 0.1


class Sanitize(Stage):
    name = "sanitize"
    Options = SanitizeOptions
    options: SanitizeOptions

    def apply(self, analysis: Analysis) -> None:
        text = analysis.text
        if _looks_binary(text, self.options.max_non_text_ratio):
            raise GatewayError("binary_input")
        cleaned = "".join(map(_clean, text))
        cleaned = re.sub(r"[ ]{2,}", " ", cleaned).strip()
        if not cleaned:
            raise GatewayError("empty_message")
        if len(cleaned) > self.options.max_chars:
            raise GatewayError("message_too_long", limit=self.options.max_chars)
        analysis.update(self.name, cleaned, "removed control or invisible characters")


def _looks_binary(text: str, max_ratio: float) -> bool:
    if "\x00" in text:
        return True
    odd = sum(map(_odd, text))
    return odd > 0 and odd >= max(2, max_ratio * len(text))


# What a character is never changes: each is looked at once (a few thousand are common), not in
# every question; the caches are bounded, for text made of rare characters.
@lru_cache(maxsize=1 << 14)
def _odd(char: str) -> bool:
    return char == "\ufffd" or (
        char not in _LINE_BREAKS and unicodedata.category(char) in _NON_TEXT
    )


@lru_cache(maxsize=1 << 14)
def _clean(char: str) -> str:
    if char in _LINE_BREAKS:
        return " "
    category = unicodedata.category(char)
    if category in _NON_TEXT or category == "Cf":
        return ""
    return char
