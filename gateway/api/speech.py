"""/api/v1/speech and /api/v1/transcriptions: read-aloud and voice input for the portal.

``GET /api/v1/speech`` says what the gateway can do (the locales its speaker reads, whether
it transcribes, the recording limits); ``POST /api/v1/speech`` reads a text aloud and answers
the audio; ``POST /api/v1/transcriptions`` takes a recording as the request body (its
``Content-Type`` the audio's) and answers the words. Errors are the gateway's usual localized
JSON: ``speech_unavailable``, ``transcription_unavailable``, ``empty_audio``,
``audio_too_large``, ``audio_too_long``, ``unsupported_audio``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, Field

from gateway.api.locale import request_locale
from gateway.api.schemas import QUESTION_TEXT, error_responses
from gateway.api.security import limit
from gateway.config import Settings
from gateway.errors import GatewayError
from gateway.speech.base import Audio
from gateway.speech.service import SpeechService

#: The recording upload: larger than the API's usual body limit (gateway/app.py).
TRANSCRIPTIONS = "/api/v1/transcriptions"


def upload_limit(settings: Settings) -> int:
    """The hard cap on a recording's upload: above ``max_audio_bytes``, so that a recording
    somewhat too large is told ``audio_too_large`` (what to do), not ``request_too_large``."""
    return 2 * settings.speech.max_audio_bytes


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    service = SpeechService.from_settings(settings.speech, settings.http)
    await service.startup()
    app.state.speech = service
    try:
        yield
    finally:
        await service.aclose()


router = APIRouter(prefix="/api/v1", responses=error_responses(), lifespan=lifespan)


class SpeechSupport(BaseModel):
    #: UI locales the gateway reads aloud.
    speaks: list[str]
    #: Whether voice input is offered.
    transcribes: bool
    max_audio_bytes: int
    max_audio_seconds: float


class SpeechRequest(BaseModel):
    text: str = Field(max_length=100_000, json_schema_extra=QUESTION_TEXT)
    lang: str | None = Field(None, max_length=35)


class Transcription(BaseModel):
    text: str


def _service(request: Request) -> SpeechService:
    return request.app.state.speech


def is_audio(content_type: str) -> bool:
    """Whether a ``Content-Type`` is a recording's (``audio/webm;codecs=opus`` …)."""
    media_type = content_type.split(";")[0].strip().lower()
    return media_type.startswith("audio/") and len(media_type) > len("audio/")


@router.get("/speech", response_model=SpeechSupport, summary="What can be read aloud or heard")
async def support(request: Request) -> SpeechSupport:
    service = _service(request)
    return SpeechSupport(
        speaks=service.speaks(),
        transcribes=service.transcriber.available,
        max_audio_bytes=service.config.max_audio_bytes,
        max_audio_seconds=service.config.max_audio_seconds,
    )


@router.post(
    "/speech",
    summary="Read a text aloud",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}, "audio/mpeg": {}}}},
)
async def speak(body: SpeechRequest, request: Request) -> Response:
    locale = request_locale(request, body.lang)
    await limit(request, "per_ip")
    audio = await _service(request).speak(body.text, locale)
    return Response(audio.data, media_type=audio.media_type, headers={"Cache-Control": "no-store"})


@router.post(
    "/transcriptions",
    response_model=Transcription,
    summary="Write down a recording",
    openapi_extra={"requestBody": {"content": {"audio/webm": {}, "audio/wav": {}}}},
)
async def transcribe(
    request: Request, lang: str | None = None, seconds: float | None = None
) -> Transcription:
    """The recording is the body. ``seconds``: its length as the recorder measured it (a
    compressed recording's length is not read here; WAV's is)."""
    request_locale(request, lang if lang and len(lang) <= 35 else None)
    content_type = request.headers.get("content-type", "")
    if not is_audio(content_type):
        raise GatewayError("unsupported_audio")
    await limit(request, "per_ip")
    data = await request.body()
    text = await _service(request).transcribe(
        Audio(data, content_type.split(";")[0].strip().lower()), request.state.locale, seconds
    )
    return Transcription(text=text)
