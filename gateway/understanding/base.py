"""The ``Stage`` interface and the ``Analysis`` every stage reads and extends."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from gateway.extensions import Extension

if TYPE_CHECKING:
    from gateway.understanding.lexicon import Lexicon


@dataclass(frozen=True, slots=True)
class Step:
    """What one stage did: the text before and after, and why (empty ``reason``: unchanged)."""

    stage: str
    before: str
    after: str
    reason: str = ""

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True)
class Correction:
    """One change a correcting stage made: ``original`` at ``start:end`` of the text the stage
    read became ``replacement``, for ``reason``."""

    stage: str
    original: str
    replacement: str
    start: int
    end: int
    reason: str
    #: The next best reading, when the stage had one (pinyin).
    alternative: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "from": self.original,
            "to": self.replacement,
            "span": [self.start, self.end],
            "reason": self.reason,
            "alternative": self.alternative,
        }


@dataclass(slots=True)
class Analysis:
    """A question as understood so far."""

    #: Exactly what the resident typed.
    original: str
    #: The text as the stages have left it; after the last stage, the text sent on.
    text: str
    #: The resident's UI locale, a hint for text too short to tell its language.
    locale: str = "zh-CN"
    #: The detected language of the question, once a stage has decided it.
    language: str | None = None
    trace: list[Step] = field(default_factory=list)
    #: False: the resident asked for the question exactly as typed; correcting stages skip.
    correct: bool = True
    #: What the stages corrected or translated, in order.
    corrections: list[Correction] = field(default_factory=list)
    #: True when a correcting stage (pinyin, typo correction) changed the text: the resident
    #: is then shown what the gateway understood (``did_you_mean``).
    autocorrected: bool = False
    #: Anything a stage wants to tell later stages or operators.
    notes: dict[str, Any] = field(default_factory=dict)

    def update(self, stage: str, text: str, reason: str = "") -> None:
        """Replace the text and record the step."""
        self.trace.append(Step(stage, self.text, text, reason if text != self.text else ""))
        self.text = text

    @property
    def changed(self) -> bool:
        return any(step.changed for step in self.trace)

    def to_dict(self) -> dict[str, Any]:
        """The analysis as JSON: ``POST /api/v1/analyze`` and ``gateway analyze`` print it."""
        return {
            "original": self.original,
            "normalized": self.notes.get("normalized", self.original),
            "language": self.language,
            "script": self.notes.get("script"),
            "corrected": self.text,
            "changed": self.changed,
            "autocorrected": self.autocorrected,
            "corrections": [correction.to_dict() for correction in self.corrections],
            "trace": [
                {
                    "stage": step.stage,
                    "changed": step.changed,
                    "before": step.before,
                    "after": step.after,
                    "reason": step.reason,
                }
                for step in self.trace
            ],
        }


class Stage(Extension, ABC):
    """One step of understanding. Subclasses set ``name`` and, when configurable, ``Options``."""

    name: ClassVar[str]
    #: True for stages that change what the resident meant to type (pinyin, typo correction):
    #: they are skipped when the resident asks for the question as typed.
    corrective: ClassVar[bool] = False
    #: True for stages that read the lexicon: the pipeline calls ``learn`` before the first
    #: question and again when the knowledge base's words are added.
    uses_lexicon: ClassVar[bool] = False

    def __init__(self, options: BaseModel | None = None) -> None:
        self.options = options if options is not None else self.Options()

    def learn(self, lexicon: Lexicon) -> None:
        """Build what the stage needs from the lexicon (only called when ``uses_lexicon``)."""

    @abstractmethod
    def apply(self, analysis: Analysis) -> None:
        """Read ``analysis`` and extend it; raise ``GatewayError`` for text that cannot go on."""
