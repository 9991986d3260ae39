"""The ``Speaker`` and ``Transcriber`` interfaces, and the implementations that do nothing.

A speaker turns text in a language into audio; a transcriber turns a recording into text.
Implementations are registered in the ``gateway.speakers`` and ``gateway.transcribers``
entry-point groups (gateway/extensions.py) and configured in ``[speech]``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from gateway.extensions import Extension


class SpeechError(Exception):
    """The engine could not do what was asked (unreachable, refused, broken output)."""


class Options(BaseModel):
    """An implementation's options, from ``[speech.options.<name>]``."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Audio:
    """Audio and its media type (``audio/wav``, ``audio/mpeg`` …)."""

    data: bytes
    media_type: str


class Speaker(Extension, ABC):
    """Text to speech."""

    name: ClassVar[str]
    Options: ClassVar[type[Options]] = Options

    def __init__(self, options: Options) -> None:
        self.options = options

    async def startup(self) -> None:
        """Get ready (find the voices); raise :class:`SpeechError` if the engine is unusable."""

    async def aclose(self) -> None:
        """Release what :meth:`startup` opened."""

    @abstractmethod
    def languages(self) -> list[str]:
        """The UI locales (``zh-CN``, ``en`` …) this speaker has a voice for."""

    @abstractmethod
    async def speak(self, text: str, language: str) -> Audio:
        """``text`` spoken in ``language`` (one of :meth:`languages`)."""


class Transcriber(Extension, ABC):
    """Speech to text."""

    name: ClassVar[str]
    Options: ClassVar[type[Options]] = Options

    def __init__(self, options: Options) -> None:
        self.options = options

    async def startup(self) -> None:
        """Get ready; raise :class:`SpeechError` if the engine is unusable."""

    async def aclose(self) -> None:
        """Release what :meth:`startup` opened."""

    @property
    def available(self) -> bool:
        """Whether voice input is offered at all (the portal shows its button)."""
        return True

    @abstractmethod
    async def transcribe(self, audio: Audio, language: str) -> str:
        """The words spoken in ``audio``; ``language`` is the resident's UI locale, a hint."""


class NoSpeaker(Speaker):
    """No read-aloud from the gateway: the browser's voices only."""

    name = "none"

    def languages(self) -> list[str]:
        return []

    async def speak(self, text: str, language: str) -> Audio:
        raise SpeechError("no speaker is configured")


class NoTranscriber(Transcriber):
    """No voice input: the portal does not show its button."""

    name = "none"

    @property
    def available(self) -> bool:
        return False

    async def transcribe(self, audio: Audio, language: str) -> str:
        raise SpeechError("no transcriber is configured")
