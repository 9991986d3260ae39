"""Script conversion: Traditional Chinese (Hong Kong, Taiwan or generic) → Simplified with
OpenCC for the back ends, and the answer back into the resident's own script.

The variant decides the OpenCC tables: ``hk`` (hk2s / s2hk), ``tw`` (tw2s / s2tw) or ``t``
(t2s / s2t, OpenCC's standard Traditional). The variant is read from the characters where the
two regional standards differ (綫/線, 着/著, 裏/裡 …); when they do not tell, the UI locale does.
Only script changes: the ``…p`` tables that also swap regional vocabulary are not used, since
they can shift a question's meaning.
"""

from __future__ import annotations

from functools import cache

import opencc

from gateway.understanding.base import Analysis, Stage

#: Languages written in Traditional script that the stage converts.
TRADITIONAL = frozenset({"zh-Hant", "yue"})
CHINESE = frozenset({"zh", "zh-Hant", "yue"})
VARIANTS = ("hk", "tw", "t")


@cache
def converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def _differences(text: str, converted: str) -> int:
    if len(text) != len(converted):
        return abs(len(text) - len(converted)) + 1
    return sum(1 for a, b in zip(text, converted, strict=True) if a != b)


def traditional_share(text: str) -> tuple[int, int]:
    """How many characters only Traditional script writes, and how many only Simplified."""
    traditional = _differences(text, converter("t2s").convert(text))
    simplified = _differences(text, converter("s2t").convert(text))
    return traditional, simplified


def variant(text: str, locale: str, cantonese: bool = False) -> str:
    """``hk``, ``tw`` or ``t``: the Traditional standard ``text`` follows."""
    simplified = converter("t2s").convert(text)
    hk = _differences(text, converter("s2hk").convert(simplified))
    tw = _differences(text, converter("s2tw").convert(simplified))
    if hk < tw:
        return "hk"
    if tw < hk:
        return "tw"
    region = locale.lower()
    if region.endswith(("-tw", "hant-tw")):
        return "tw"
    if cantonese or region.endswith(("-hk", "-mo", "hant-hk")):
        return "hk"
    return "t"


def to_simplified(text: str, script: str) -> str:
    return converter({"hk": "hk2s", "tw": "tw2s"}.get(script, "t2s")).convert(text)


def to_resident_script(text: str, script: str | None) -> str:
    """``text`` (Simplified) in the resident's script: unchanged when they wrote Simplified."""
    if script not in VARIANTS:
        return text
    return converter({"hk": "s2hk", "tw": "s2tw"}.get(script, "s2t")).convert(text)


class Script(Stage):
    """Traditional → Simplified, remembering the resident's script (``notes["script"]``).

    A Simplified question with a stray Traditional character (or one typed in a mix) has those
    characters converted too, so what is sent on is all Simplified and reads the same the next
    time; only a question mostly in Traditional gets its answer back in Traditional."""

    name = "script"

    def apply(self, analysis: Analysis) -> None:
        script = analysis.notes.get("script")
        if analysis.language in TRADITIONAL and script in VARIANTS:
            converted = to_simplified(analysis.text, script)
            analysis.update(self.name, converted, f"Traditional script ({script}) to Simplified")
        elif analysis.language in CHINESE and analysis.notes.get("traditional"):
            converted = to_simplified(analysis.text, "t")
            analysis.update(self.name, converted, "Traditional characters to Simplified")
