"""Markdown cut into what an engine translates and the structure kept around it.

Plain-text engines (argos, LibreTranslate) get one line of words at a time, without the list
markers, heading marks and emphasis that they would garble; the markers are put back around
the translation. Emphasis inside a line cannot follow the words through translation, so it is
dropped for those engines. Code blocks are kept as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_BLOCK_PREFIX = re.compile(r"^(\s*(?:(?:#{1,6}|>|[-*+]|\d{1,3}[.)])\s+)*)")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(slots=True)
class Layout:
    #: Pieces of the text in order; ``True`` marks the ones to translate.
    parts: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [text for text, translate in self.parts if translate]

    def join(self, translations: Sequence[str]) -> str:
        """The text with the translatable pieces replaced, in order, by ``translations``."""
        pending = iter(translations)
        return "".join(next(pending) if translate else text for text, translate in self.parts)


def layout(markdown: str) -> Layout:
    result = Layout()
    in_code = False
    for line in markdown.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if _FENCE.match(body):
            in_code = not in_code
            result.parts.append((line, False))
            continue
        if in_code or not body.strip():
            result.parts.append((line, False))
            continue
        prefix = _BLOCK_PREFIX.match(body).group(1)  # type: ignore[union-attr]
        words = _EMPHASIS.sub(r"\2", body[len(prefix) :]).strip()
        if prefix:
            result.parts.append((prefix, False))
        if words:
            result.parts.append((words, True))
        result.parts.append((ending, False))
    return result
