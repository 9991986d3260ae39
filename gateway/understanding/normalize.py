"""Normalize: Unicode NFKC (full-width letters, digits and punctuation become ASCII), whitespace
folded, spaces between Chinese characters dropped. Numbers, URLs and e-mail addresses keep
every character they had.
"""

from __future__ import annotations

import re
import unicodedata

from gateway.understanding.base import Analysis, Stage

_SPACES = re.compile(r"\s+")
_CJK = r"\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# A space between two Chinese characters (or Chinese punctuation) carries no meaning.
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")


def _nfkc(text: str) -> str:
    if unicodedata.is_normalized("NFKC", text):
        return text
    # Superscripts, fractions and circled numbers (category No) are numbers as written:
    # NFKC would turn m² into m2 and ½ into 1⁄2.
    parts = []
    start = 0
    for index, char in enumerate(text):
        if unicodedata.category(char) == "No":
            parts += (unicodedata.normalize("NFKC", text[start:index]), char)
            start = index + 1
    parts.append(unicodedata.normalize("NFKC", text[start:]))
    return "".join(parts)


def normalize(text: str) -> str:
    text = _nfkc(text)
    text = _SPACES.sub(" ", text).strip()
    return _SPACE_BETWEEN_CJK.sub("", text)


class Normalize(Stage):
    name = "normalize"

    def apply(self, analysis: Analysis) -> None:
        analysis.update(self.name, normalize(analysis.text), "NFKC, full-width to ASCII, spaces")
        analysis.notes["normalized"] = analysis.text
