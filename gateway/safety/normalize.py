"""The text the sensitive-word lexicon is matched against: one character at a time, width and
case folded (NFKC, lower case), Traditional characters turned Simplified (OpenCC's ``t2s``), and
"noise" — spaces, punctuation, symbols, emoji, invisible and combining characters — dropped, so
that 办 假 证, 辦假證, 办*假*证 and ＦＵＣＫ all read as the terms 办假证 and fuck.

The mapping is per character (a translation table built once), which keeps it fast (one
``str.translate``) and lets every character of the normalized text point back to the character
it came from, so that a match can be masked in the text as the resident or back end wrote it.
Because OpenCC is asked character by character, a Traditional character with several Simplified
readings takes OpenCC's first one (乾 → 干): for matching, erring towards a match is right.

Letters and digits slipped between Chinese characters (办x假x证, 办1假2证) cannot be dropped
like the rest of the noise — they are words elsewhere — so :func:`letter_noise` finds them: runs
of one or two between two Chinese characters. The lexicon matches its Chinese terms once more
with those runs left out.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

#: Unicode categories dropped as noise: separators, punctuation, symbols, controls, format
#: characters, combining marks, unassigned and private-use code points.
NOISE_CATEGORIES = frozenset(
    {"Zs", "Zl", "Zp", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So"}
    | {"Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me", "Mc"}
)
#: Code points covered by the table: the Basic and Supplementary Multilingual Planes (emoji
#: included). Characters beyond are compared as they are.
_TABLE_LIMIT = 0x20000
_CJK_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
#: The same ranges, as the body of a regular expression's character class.
_HAN = "".join(f"{chr(start)}-{chr(end - 1)}" for start, end in _CJK_RANGES)
#: One or two letters or digits between two Chinese characters, in normalized text.
_LETTER_NOISE = re.compile(f"(?<=[{_HAN}])[0-9a-z]{{1,2}}(?=[{_HAN}])")
#: The same at the end of a text still arriving: the next piece may bring the character after.
_TRAILING_LETTER_NOISE = re.compile(f"(?<=[{_HAN}])[0-9a-z]{{1,2}}(?=[{_HAN}]|$)")


#: Characters that may be slipped between Chinese characters (see :func:`letter_noise`).
NOISE_LETTERS = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")


def is_han(char: str) -> bool:
    """Whether ``char`` is in the Chinese ranges of the letter-noise pattern."""
    code = ord(char)
    return any(start <= code < end for start, end in _CJK_RANGES)


def letter_noise(normalized: str, *, open_end: bool = False) -> list[tuple[int, int]]:
    """Spans of ``normalized`` that may be letters slipped into a Chinese term (see above);
    ``open_end``: count a run at the very end too (a streamed text)."""
    pattern = _TRAILING_LETTER_NOISE if open_end else _LETTER_NOISE
    return [match.span() for match in pattern.finditer(normalized)]


def _is_noise(char: str) -> bool:
    return unicodedata.category(char) in NOISE_CATEGORIES


@cache
def table() -> dict[int, str | None]:
    """Code point → its normalized text (None: dropped); characters that stay are absent."""
    cjk = [chr(code) for start, end in _CJK_RANGES for code in range(start, end)]
    # One character a line, so that OpenCC converts characters, not phrases.
    simplified = opencc.OpenCC("t2s").convert("\n".join(cjk)).split("\n")
    t2s = {
        before: after
        for before, after in zip(cjk, simplified, strict=True)
        if before != after and len(after) == 1
    }
    mapping: dict[int, str | None] = {}
    for code in range(_TABLE_LIMIT):
        char = chr(code)
        if 0xD800 <= code < 0xE000:
            mapping[code] = None
            continue
        folded = "".join(
            t2s.get(part, part)
            for part in unicodedata.normalize("NFKC", char).lower()
            if not _is_noise(part)
        )
        if folded != char:
            mapping[code] = folded or None
    return mapping


def normalize(text: str) -> str:
    return text.translate(table())


def aligned(text: str) -> tuple[str, list[int]]:
    """The normalized text, and for each of its characters the index in ``text`` it came from."""
    mapping = table()
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = mapping.get(ord(char), char)
        if folded:
            pieces.append(folded)
            origin.extend([index] * len(folded))
    return "".join(pieces), origin
