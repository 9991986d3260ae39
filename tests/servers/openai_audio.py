"""An OpenAI-compatible audio server, as OpenAI's OpenAPI document defines it
(openai/openai-openapi, openapi.yaml: ``/audio/speech`` with ``CreateSpeechRequest``,
``/audio/transcriptions`` with ``CreateTranscriptionRequest`` and
``CreateTranscriptionResponseJson``), as whisper.cpp's server, faster-whisper-server or vLLM
serve it.

- ``POST /v1/audio/speech``: JSON with the required ``model``, ``input`` (≤ 4096 characters)
  and ``voice``, optional ``response_format`` (``wav`` and ``flac`` here) and ``speed``; no
  other fields (``additionalProperties: false``). The audio is real speech, made with
  espeak-ng (as a small local TTS server would), sox converting and applying ``speed``.
- ``POST /v1/audio/transcriptions``: multipart with the required ``file`` and ``model``,
  optional ``language`` (ISO-639-1) and ``response_format``. The file must be audio in a
  container a whisper server decodes (WAV, WebM, Ogg, FLAC, MP3); WAV must not be silence
  (sox measures it). There is no recogniser here: the text answered is the test's
  ``extra["transcript"]`` (what the recording says), given only for audio that passed.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.servers import Behaviour, app_with, refusal

SPEECH_FIELDS = {"model", "input", "voice", "instructions", "response_format", "speed"}
MEDIA = {"wav": "audio/wav", "flac": "audio/flac"}
#: Leading bytes of the containers a whisper server decodes.
MAGIC = {b"RIFF": "wav", b"\x1aE\xdf\xa3": "webm", b"OggS": "ogg", b"fLaC": "flac", b"ID3": "mp3"}


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "invalid_request_error"}}, status_code=status
    )


def peak_amplitude(wav: bytes) -> float:
    """sox's maximum amplitude of a WAV recording (0 for silence)."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as file:
        file.write(wav)
        file.flush()
        report = subprocess.run(
            ["sox", file.name, "-n", "stat"], capture_output=True, text=True, check=True
        ).stderr
    for line in report.splitlines():
        if line.startswith("Maximum amplitude"):
            return float(line.split(":")[1])
    raise ValueError("sox reported no amplitude")


def espeak_wav(text: str, voice: str = "en-us", speed: float = 1.0) -> bytes:
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "--stdin", "--stdout"],
        input=text.encode("utf-8"),
        capture_output=True,
        check=True,
    ).stdout
    if speed == 1.0:
        return wav
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "in.wav"), Path(folder, "out.wav")
        source.write_bytes(wav)
        subprocess.run(["sox", str(source), str(target), "tempo", str(speed)], check=True)
        return target.read_bytes()


def create_app(behaviour: Behaviour) -> FastAPI:
    app = app_with(behaviour)

    @app.post("/v1/audio/speech")
    async def speech(request: Request) -> Any:
        try:
            body = await request.json()
        except ValueError:
            return error(400, "We could not parse the JSON body of your request.")
        behaviour.requests.append(
            {"path": request.url.path, "headers": dict(request.headers), "json": body}
        )
        refused = refusal(behaviour, request)
        if refused is not None:
            return refused
        missing = [name for name in ("model", "input", "voice") if not body.get(name)]
        if missing:
            return error(400, f"Missing required parameter: '{missing[0]}'.")
        extra = set(body) - SPEECH_FIELDS
        if extra:
            return error(400, f"Unrecognized request argument supplied: {sorted(extra)[0]}")
        if len(body["input"]) > 4096:
            return error(400, "input: string too long, maximum 4096 characters")
        audio_format = body.get("response_format", "mp3")
        if audio_format not in MEDIA:
            return error(400, f"response_format {audio_format!r} is not served here")
        speed = float(body.get("speed", 1.0))
        if not 0.25 <= speed <= 4.0:
            return error(400, "speed must be between 0.25 and 4.0")
        wav = espeak_wav(body["input"], behaviour.extra.get("voice", "en-us"), speed)
        if audio_format == "flac":
            with tempfile.TemporaryDirectory() as folder:
                Path(folder, "a.wav").write_bytes(wav)
                subprocess.run(["sox", f"{folder}/a.wav", f"{folder}/a.flac"], check=True)
                wav = Path(folder, "a.flac").read_bytes()
        return Response(wav, media_type=MEDIA[audio_format])

    @app.post("/v1/audio/transcriptions")
    async def transcriptions(request: Request) -> Any:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return error(400, "Content-Type must be multipart/form-data")
        form = await request.form()
        upload = form.get("file")
        data = await upload.read() if hasattr(upload, "read") else b""
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        behaviour.requests.append(
            {
                "path": request.url.path,
                "headers": dict(request.headers),
                "json": fields,
                "file": {"name": getattr(upload, "filename", ""), "bytes": len(data)},
            }
        )
        refused = refusal(behaviour, request)
        if refused is not None:
            return refused
        if not data:
            return error(400, "Missing required parameter: 'file'.")
        if not fields.get("model"):
            return error(400, "Missing required parameter: 'model'.")
        container = next((name for magic, name in MAGIC.items() if data.startswith(magic)), None)
        if container is None:
            return error(400, "Invalid file format. Supported formats: flac, mp3, ogg, wav, webm")
        if container == "wav" and peak_amplitude(data) < 0.01:
            return JSONResponse({"text": ""})
        text = str(behaviour.extra.get("transcript", ""))
        if fields.get("response_format") == "text":
            return Response(text, media_type="text/plain")
        return JSONResponse({"text": text})

    return app
