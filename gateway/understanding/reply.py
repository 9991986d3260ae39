"""What the resident is told about how their question was understood: the corrected question
(``did_you_mean``) and the answer in their own script (Traditional for those who wrote it)."""

from __future__ import annotations

from gateway.understanding.base import Analysis
from gateway.understanding.script import to_resident_script


def did_you_mean(analysis: Analysis, sent: str) -> str | None:
    """``sent`` (the question as sent on, already masked), in the resident's script, when a
    correcting stage changed what they typed; else None."""
    if not analysis.autocorrected:
        return None
    return in_resident_script(analysis, sent)


def in_resident_script(analysis: Analysis, text: str) -> str:
    """``text`` (Simplified) converted back to the script the resident wrote in."""
    return to_resident_script(text, analysis.notes.get("script"))
