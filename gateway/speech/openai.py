"""Speech through any OpenAI-compatible audio server: ``POST /v1/audio/speech`` (text to
speech) and ``POST /v1/audio/transcriptions`` (speech to text), as OpenAI's OpenAPI document
(openai/openai-openapi, openapi.yaml: CreateSpeechRequest, CreateTranscriptionRequest)
defines them. Servers that speak them: OpenAI, vLLM, whisper.cpp's server, faster-whisper-
server / speaches, FunASR's OpenAI mode, Kokoro-FastAPI, openedai-speech."""

from __future__ import annotations

import os

import httpx
from pydantic import Field

from gateway.config import HttpConfig
from gateway.http import create_client
from gateway.speech.base import Audio, Options, Speaker, SpeechError, Transcriber

_MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
}
#: Extensions for the uploaded file's name: servers guess the format from it.
_EXTENSIONS = {
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/flac": "flac",
}


class OpenAIAudioOptions(Options):
    #: The server's base URL, with or without ``/v1``.
    url: str
    model: str
    #: Environment variable holding the API key (empty: none is sent).
    api_key_env: str = ""
    timeout: float = Field(30.0, gt=0)


class OpenAISpeakerOptions(OpenAIAudioOptions):
    model: str = "tts-1"
    voice: str = "alloy"
    #: The UI locales the server's voice speaks.
    languages: list[str] = Field(default_factory=lambda: ["zh-CN", "en"])
    response_format: str = Field("mp3", pattern="^(mp3|opus|aac|flac|wav)$")


class OpenAITranscriberOptions(OpenAIAudioOptions):
    model: str = "whisper-1"


class _Client:
    """The HTTP side both share: one client, the key, the URL of an endpoint."""

    options: OpenAIAudioOptions
    http_config: HttpConfig = HttpConfig()
    _http: httpx.AsyncClient | None = None

    def _endpoint(self, path: str) -> str:
        base = self.options.url.rstrip("/")
        return f"{base}{path}" if base.endswith("/v1") else f"{base}/v1{path}"

    def _headers(self) -> dict[str, str]:
        env = self.options.api_key_env
        if not env:
            return {}
        key = os.environ.get(env, "")
        if not key:
            raise SpeechError(f"the environment variable {env} holding the key is not set")
        return {"Authorization": f"Bearer {key}"}

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = create_client(self.http_config, timeout=self.options.timeout)
        return self._http

    async def _post(self, path: str, **kwargs: object) -> httpx.Response:
        url = self._endpoint(path)
        try:
            response = await self.http.post(url, headers=self._headers(), **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise SpeechError(f"{url} could not be reached: {exc!r}") from exc
        if response.status_code >= 400:
            raise SpeechError(f"{url} answered {response.status_code}: {response.text[:200]}")
        return response

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class OpenAISpeaker(_Client, Speaker):
    name = "openai"
    Options = OpenAISpeakerOptions
    options: OpenAISpeakerOptions

    def languages(self) -> list[str]:
        return list(self.options.languages)

    async def speak(self, text: str, language: str) -> Audio:
        body = {
            "model": self.options.model,
            "input": text,
            "voice": self.options.voice,
            "response_format": self.options.response_format,
        }
        response = await self._post("/audio/speech", json=body)
        if not response.content:
            raise SpeechError("the speech server sent no audio")
        return Audio(response.content, _MEDIA_TYPES[self.options.response_format])


class OpenAITranscriber(_Client, Transcriber):
    name = "openai"
    Options = OpenAITranscriberOptions
    options: OpenAITranscriberOptions

    async def transcribe(self, audio: Audio, language: str) -> str:
        media_type = audio.media_type.split(";")[0].strip().lower()
        filename = f"speech.{_EXTENSIONS.get(media_type, 'webm')}"
        data = {"model": self.options.model, "response_format": "json"}
        # ISO-639-1, as the API asks; Cantonese has none, so the server detects it.
        primary = language.split("-")[0].lower()
        if language != "zh-HK" and len(primary) == 2:
            data["language"] = primary
        response = await self._post(
            "/audio/transcriptions", data=data, files={"file": (filename, audio.data, media_type)}
        )
        try:
            text = response.json()["text"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SpeechError("the transcription server did not answer {text}") from exc
        return str(text).strip()
