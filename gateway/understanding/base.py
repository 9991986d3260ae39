"""The ``Stage`` interface and the ``Analysis`` every stage reads and extends."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


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
    #: Anything a stage wants to tell later stages or operators.
    notes: dict[str, Any] = field(default_factory=dict)

    def update(self, stage: str, text: str, reason: str = "") -> None:
        """Replace the text and record the step."""
        self.trace.append(Step(stage, self.text, text, reason if text != self.text else ""))
        self.text = text


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stage(ABC):
    """One step of understanding. Subclasses set ``name`` and, when configurable, ``Options``."""

    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]] = NoOptions

    def __init__(self, options: BaseModel | None = None) -> None:
        self.options = options if options is not None else self.Options()

    @abstractmethod
    def apply(self, analysis: Analysis) -> None:
        """Read ``analysis`` and extend it; raise ``GatewayError`` for text that cannot go on."""
