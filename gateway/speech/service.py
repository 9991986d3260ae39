"""The speech service the API uses: the configured speaker and transcriber, and the limits
that every request is held to before an engine sees it."""

from __future__ import annotations

import io
import logging
import wave
from typing import Any, TypeVar

from gateway import extensions
from gateway.config import HttpConfig, SpeechConfig
from gateway.errors import GatewayError
from gateway.safety import pii
from gateway.speech.base import Audio, Speaker, SpeechError, Transcriber

log = logging.getLogger("gateway.speech")

SPEAKERS = "gateway.speakers"
TRANSCRIBERS = "gateway.transcribers"

E = TypeVar("E", Speaker, Transcriber)


def _create(group: str, name: str, base: type[E], raw: dict[str, Any], http: HttpConfig) -> E:
    engine = extensions.create(group, name, base, raw, None, label=f"speech {name!r}")
    if hasattr(engine, "http_config"):
        engine.http_config = http
    return engine


class SpeechService:
    def __init__(self, config: SpeechConfig, speaker: Speaker, transcriber: Transcriber) -> None:
        self.config = config
        self.speaker = speaker
        self.transcriber = transcriber
        self._speaks: list[str] = []

    @classmethod
    def from_settings(cls, config: SpeechConfig, http: HttpConfig) -> SpeechService:
        speaker = _create(SPEAKERS, config.speaker, Speaker, config.speaker_options, http)
        transcriber = _create(
            TRANSCRIBERS, config.transcriber, Transcriber, config.transcriber_options, http
        )
        return cls(config, speaker, transcriber)

    async def startup(self) -> None:
        # An engine that cannot start leaves read-aloud to the browser, the rest of the
        # gateway running: residents who can hear the browser's voice lose nothing.
        try:
            await self.speaker.startup()
            self._speaks = self.speaker.languages()
        except SpeechError as exc:
            log.error("speaker %r unusable, read-aloud is the browser's only: %s",
                      self.speaker.name, exc)  # fmt: skip
        try:
            await self.transcriber.startup()
        except SpeechError as exc:
            log.error("transcriber %r unusable: %s", self.transcriber.name, exc)

    async def aclose(self) -> None:
        await self.speaker.aclose()
        await self.transcriber.aclose()

    def speaks(self) -> list[str]:
        return list(self._speaks)

    def speaker_for(self, locale: str) -> str | None:
        """The locale the speaker has a voice for that reads ``locale`` (or its language)."""
        if locale in self._speaks:
            return locale
        primary = locale.split("-")[0].lower()
        return next((code for code in self._speaks if code.split("-")[0] == primary), None)

    async def speak(self, text: str, locale: str) -> Audio:
        text = text.strip()
        if not text:
            raise GatewayError("empty_message")
        if len(text) > self.config.max_text_chars:
            raise GatewayError("message_too_long", limit=str(self.config.max_text_chars))
        voice = self.speaker_for(locale)
        if voice is None:
            raise GatewayError("speech_unavailable")
        # What is read includes the resident's own question as typed: personal numbers in it
        # are not sent to a speech server (it reads their label instead).
        text = pii.mask(text).text
        try:
            return await self.speaker.speak(text, voice)
        except SpeechError as exc:
            log.warning("speaker %r failed: %s", self.speaker.name, exc)
            raise GatewayError("speech_unavailable") from exc

    async def transcribe(self, audio: Audio, locale: str, seconds: float | None = None) -> str:
        if not self.transcriber.available:
            raise GatewayError("transcription_unavailable")
        if not audio.data:
            raise GatewayError("empty_audio")
        if len(audio.data) > self.config.max_audio_bytes:
            raise GatewayError("audio_too_large")
        length = _wav_seconds(audio.data)
        # A compressed recording's length is the browser's word (it stops at the limit);
        # WAV is measured here.
        if length is None:
            length = seconds
        limit = self.config.max_audio_seconds
        if length is not None and length > limit + 0.5:
            raise GatewayError("audio_too_long", seconds=f"{limit:g}")
        try:
            return await self.transcriber.transcribe(audio, locale)
        except SpeechError as exc:
            log.warning("transcriber %r failed: %s", self.transcriber.name, exc)
            raise GatewayError("transcription_unavailable") from exc


def _wav_seconds(data: bytes) -> float | None:
    if not data.startswith(b"RIFF"):
        return None
    try:
        with wave.open(io.BytesIO(data)) as reader:
            # A streamed WAV (espeak-ng --stdout, some recorders) leaves its size open in the
            # header; the bytes that came say how long it is.
            frame = reader.getsampwidth() * reader.getnchannels()
            frames = min(reader.getnframes(), len(data) // frame)
            return frames / float(reader.getframerate())
    except (wave.Error, EOFError, ZeroDivisionError):
        return None
