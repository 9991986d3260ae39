"""Read-aloud and voice input in the portal: the controls drawn under the question box, and
the two routes the page's script calls, which pass audio to and from the gateway
(``/api/v1/speech``, ``/api/v1/transcriptions``) through the portal's client, so that the
browser needs no way to the gateway of its own.

The browser speaks with its own voice when it has one for the language (accessibility/
portal.js); for the others it asks ``/voice/speech``. The voice-input button is drawn only
when the gateway has a transcriber.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import locales
from accessibility.toolbar import speed_buttons
from gateway.api.errors import is_json
from gateway.api.speech import is_audio
from gateway.config import Settings
from portal.client import GatewayClient, GatewayUnavailable
from portal.layout import Page

SPEECH_PATH = "/voice/speech"
TRANSCRIPTION_PATH = "/voice/transcription"


async def support(client: GatewayClient, locale: str) -> dict[str, Any]:
    """What the gateway can do; nothing when it cannot be asked (the browser's voices only)."""
    try:
        return await client.speech_support(locale)
    except GatewayUnavailable:
        return {"speaks": [], "transcribes": False, "max_audio_seconds": 60}


def controls(page: Page, able: dict[str, Any]) -> str:
    """The voice-input button with its status, and the read-aloud player (hidden until it
    plays), in the page's language; ``able``: the gateway's ``GET /api/v1/speech``."""
    e = page.e
    speaks = " ".join(escape(code) for code in able.get("speaks", []))
    parts = [
        f'<div id="voice-support" hidden data-speaks="{speaks}" '
        f'data-unavailable="{e("portal.read_unavailable")}"></div>'
    ]
    if able.get("transcribes"):
        seconds = f"{float(able.get('max_audio_seconds', 60)):g}"
        data = {
            "start": "portal.voice_input",
            "stop": "portal.voice_stop",
            "recording": "portal.voice_recording",
            "working": "portal.voice_working",
            "done": "portal.voice_done",
            "empty": "portal.voice_empty",
            "no-microphone": "portal.voice_no_microphone",
            "failed": "portal.voice_failed",
        }
        attributes = " ".join(f'data-{name}="{e(key)}"' for name, key in data.items())
        parts.append(
            '<div class="voice-row">'
            f'<button type="button" id="voice-input" class="voice-input" {attributes} '
            f'data-max-seconds="{seconds}" aria-describedby="voice-status">'
            f"{e('portal.voice_input')}</button>"
            '<p id="voice-status" class="voice-status" role="status"></p>'
            '<p id="voice-alert" class="voice-alert" role="alert"></p>'
            "</div>"
        )
    parts.append(
        f'<section id="speech-player" class="speech-player" aria-label="{e("portal.player")}" '
        f'data-playing="{e("portal.reading")}" hidden>'
        '<p id="speech-state" class="speech-state" role="status"></p>'
        f"{speed_buttons(page.t)}"
        '<button type="button" class="a11y-button" data-a11y-action="stop">'
        f"{e('a11y.stop_reading')}</button>"
        "</section>"
    )
    return "".join(parts)


def mount_voice(app: Starlette, client: GatewayClient, settings: Settings) -> None:
    """The routes the page's script calls; add before Gradio, which takes every path."""
    # A recording somewhat over the gateway's limit still reaches it and is told why.
    cap = 2 * settings.speech.max_audio_bytes
    default = settings.service.default_locale

    def locale_of(request: Request) -> str:
        return locales.match(request.query_params.get("lang") or "") or default

    async def speech(request: Request) -> Response:
        locale = locale_of(request)
        # Refused before anything is read or sent on: the page's script sends JSON.
        if not is_json(request):
            return _problem("unsupported_media_type", 415, locale, settings)
        try:
            body = json.loads(await _read(request, 200_000))
            locale = locales.match(str(body.get("lang") or "")) or locale
            audio = await client.speech(
                str(body.get("text") or ""), lang=locale, resident=_resident(request)
            )
        except GatewayUnavailable as error:
            return _failure(error, locale, settings)
        except (ValueError, AttributeError):
            return _problem("invalid_json", 400, locale, settings)
        except _TooLarge:
            return _problem("request_too_large", 413, locale, settings)
        return Response(
            audio.content,
            media_type=audio.headers.get("content-type", "audio/wav"),
            headers={"Cache-Control": "no-store"},
        )

    async def transcription(request: Request) -> Response:
        locale = locale_of(request)
        if not is_audio(request.headers.get("content-type", "")):
            return _problem("unsupported_audio", 415, locale, settings)
        try:
            audio = await _read(request, cap)
            seconds = request.query_params.get("seconds")
            text = await client.transcribe(
                audio,
                request.headers.get("content-type", ""),
                lang=locale,
                seconds=float(seconds) if seconds else None,
                resident=_resident(request),
            )
        except GatewayUnavailable as error:
            return _failure(error, locale, settings)
        except _TooLarge:
            return _problem("audio_too_large", 413, locale, settings)
        except ValueError:
            return _problem("invalid_request", 422, locale, settings)
        return JSONResponse({"text": text})

    app.add_route(SPEECH_PATH, speech, methods=["POST"])
    app.add_route(TRANSCRIPTION_PATH, transcription, methods=["POST"])


class _TooLarge(Exception):
    pass


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


def _resident(request: Request) -> str | None:
    return request.client.host if request.client else None


def _failure(error: GatewayUnavailable, locale: str, settings: Settings) -> JSONResponse:
    if (error.status and error.status < 500) or error.code == "transcription_unavailable":
        # the gateway's own, localized, message
        return JSONResponse(
            {"error": {"code": error.code, "message": error.message}}, status_code=error.status
        )
    return _problem("backend_unavailable", 503, locale, settings)


def _problem(code: str, status: int, locale: str, settings: Settings) -> JSONResponse:
    message = locales.text(
        f"error.{code}", locale, hotline=settings.service.hotline, detail="", limit=""
    )
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
