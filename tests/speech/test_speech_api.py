"""Read-aloud and voice input through the gateway: the embedded espeak-ng speaker (its real
audio, measured with sox), the ``openai`` speaker and transcriber against a local server
speaking ``/v1/audio/speech`` and ``/v1/audio/transcriptions`` (tests/servers/openai_audio.py),
and the limits and translated errors of ``/api/v1/speech`` and ``/api/v1/transcriptions``."""

from __future__ import annotations

import io
import subprocess
import tempfile
import wave

import pytest

import locales
from tests.servers import running
from tests.servers.openai_audio import create_app as audio_server
from tests.servers.openai_audio import espeak_wav, peak_amplitude

pytestmark = pytest.mark.anyio


def seconds(wav: bytes) -> float:
    """The length sox reads (espeak-ng's streamed WAV header leaves the size open)."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as file:
        file.write(wav)
        file.flush()
        report = subprocess.run(
            ["sox", file.name, "-n", "stat"], capture_output=True, text=True, check=True
        ).stderr
    return float(
        next(line for line in report.splitlines() if line.startswith("Length")).split(":")[1]
    )


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("zh-CN", "居住证怎么办理？请带上身份证。"),
        ("zh-HK", "身份證唔見咗點補辦？"),
        ("en", "Apply at the local police station."),
        ("ar", "كيف أحصل على تصريح الإقامة؟"),
        ("ko", "거주증은 어떻게 신청하나요?"),
    ],
)
async def test_espeak_reads_the_languages_residents_use_with_real_audio(client, locale, text):
    support = (await client.get("/api/v1/speech")).json()
    assert locale in support["speaks"] and support["transcribes"] is False
    reply = await client.post("/api/v1/speech", json={"text": text, "lang": locale})
    assert reply.status_code == 200 and reply.headers["content-type"] == "audio/wav"
    assert reply.content.startswith(b"RIFF")
    assert peak_amplitude(reply.content) > 0.2  # speech, not silence
    assert seconds(reply.content) > 1.0


async def test_a_language_no_voice_speaks_gets_a_translated_error(client):
    assert "lo" not in (await client.get("/api/v1/speech")).json()["speaks"]
    reply = await client.post("/api/v1/speech", json={"text": "ສະບາຍດີ", "lang": "lo"})
    assert reply.status_code == 422
    assert reply.json()["error"] == {
        "code": "speech_unavailable",
        "message": locales.text("error.speech_unavailable", "lo", hotline="12345"),
    }


async def test_empty_and_overlong_text_are_refused_in_the_residents_language(serve_app):
    async with serve_app("[speech]\nmax_text_chars = 50\n") as client:
        empty = await client.post("/api/v1/speech", json={"text": " ", "lang": "fr"})
        assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_message"
        assert empty.json()["error"]["message"] == locales.text("error.empty_message", "fr")
        long = await client.post("/api/v1/speech", json={"text": "字" * 51, "lang": "zh-CN"})
        assert long.json()["error"]["code"] == "message_too_long"
        assert "50" in long.json()["error"]["message"]


def _openai_toml(url: str, **extra: str) -> str:
    lines = "".join(f"{key} = {value}\n" for key, value in extra.items())
    return (
        '[speech]\nspeaker = "openai"\ntranscriber = "openai"\n'
        f"{lines}"
        "[speech.speaker_options]\n"
        f'url = "{url}"\nmodel = "tts-1"\nvoice = "alloy"\nresponse_format = "wav"\n'
        'languages = ["en", "fr"]\n'
        f'[speech.transcriber_options]\nurl = "{url}/v1"\n'
    )


async def test_the_openai_speaker_gets_speech_from_a_v1_audio_speech_server(serve_app):
    with running(audio_server) as server:
        async with serve_app(_openai_toml(server.url)) as client:
            support = (await client.get("/api/v1/speech")).json()
            assert support["speaks"] == ["en", "fr"] and support["transcribes"] is True
            reply = await client.post(
                "/api/v1/speech", json={"text": "Bring your passport.", "lang": "en"}
            )
            assert reply.status_code == 200 and reply.headers["content-type"] == "audio/wav"
            assert peak_amplitude(reply.content) > 0.2
            sent = server.requests[-1]["json"]
            assert sent == {
                "model": "tts-1",
                "input": "Bring your passport.",
                "voice": "alloy",
                "response_format": "wav",
            }
            # personal numbers in what is read (the resident's own question) do not leave
            await client.post(
                "/api/v1/speech", json={"text": "My phone is 13812345678.", "lang": "en"}
            )
            assert server.requests[-1]["json"]["input"] == "My phone is [手机号码]."
            # a language the server's voice does not speak is not sent to it
            hits = server.behaviour.hits
            other = await client.post("/api/v1/speech", json={"text": "你好", "lang": "zh-CN"})
            assert other.json()["error"]["code"] == "speech_unavailable"
            assert server.behaviour.hits == hits
            # the server failing: a translated error, not a 500
            server.behaviour.status = 500
            failed = await client.post("/api/v1/speech", json={"text": "Hello", "lang": "en"})
            assert failed.status_code == 422
            assert failed.json()["error"]["code"] == "speech_unavailable"


async def test_the_openai_transcriber_writes_down_a_recording(serve_app):
    recording = espeak_wav("How do I apply for a residence permit?")
    with running(audio_server) as server:
        server.behaviour.extra["transcript"] = "How do I apply for a residence permit?"
        async with serve_app(_openai_toml(server.url)) as client:
            reply = await client.post(
                "/api/v1/transcriptions?lang=en",
                content=recording,
                headers={"Content-Type": "audio/wav"},
            )
            assert reply.status_code == 200
            assert reply.json() == {"text": "How do I apply for a residence permit?"}
            request = server.requests[-1]
            assert request["json"] == {
                "model": "whisper-1",
                "response_format": "json",
                "language": "en",
            }
            assert request["file"] == {"name": "speech.wav", "bytes": len(recording)}
            # Cantonese has no ISO-639-1 code: the server detects the language itself
            await client.post(
                "/api/v1/transcriptions?lang=zh-HK",
                content=recording,
                headers={"Content-Type": "audio/wav"},
            )
            assert "language" not in server.requests[-1]["json"]
            # silence is heard as nothing
            silence = io.BytesIO()
            with wave.open(silence, "wb") as writer:
                writer.setnchannels(1)
                writer.setsampwidth(2)
                writer.setframerate(16000)
                writer.writeframes(b"\0\0" * 16000)
            quiet = await client.post(
                "/api/v1/transcriptions?lang=en",
                content=silence.getvalue(),
                headers={"Content-Type": "audio/wav"},
            )
            assert quiet.json() == {"text": ""}


async def test_recordings_too_large_too_long_empty_or_not_audio_get_translated_errors(serve_app):
    recording = espeak_wav("How do I apply for a residence permit? " * 3)
    assert seconds(recording) > 3
    with running(audio_server) as server:
        toml = _openai_toml(server.url, max_audio_seconds="2", max_audio_bytes="600000")
        async with serve_app(toml) as client:

            async def send(body: bytes, media_type: str = "audio/wav", lang: str = "ko"):
                reply = await client.post(
                    f"/api/v1/transcriptions?lang={lang}",
                    content=body,
                    headers={"Content-Type": media_type},
                )
                return reply.status_code, reply.json()["error"]

            status, problem = await send(recording)
            assert (status, problem["code"]) == (422, "audio_too_long")
            assert problem["message"] == locales.text("error.audio_too_long", "ko", seconds="2")
            status, problem = await send(b"\x1aE\xdf\xa3" + b"\0" * 650_000, "audio/webm")
            assert (status, problem["code"]) == (413, "audio_too_large")
            assert problem["message"] == locales.text("error.audio_too_large", "ko")
            # far beyond the limit, the upload is cut off before it is read whole
            status, problem = await send(b"\0" * 1_300_000, "audio/webm")
            assert (status, problem["code"]) == (413, "request_too_large")
            status, problem = await send(b"", "audio/webm")
            assert (status, problem["code"]) == (422, "empty_audio")
            status, problem = await send(b"hello", "text/plain")
            assert (status, problem["code"]) == (415, "unsupported_audio")
            assert problem["message"] == locales.text(
                "error.unsupported_audio", "ko", hotline="12345"
            )
            # a compressed recording's length is the recorder's word
            reply = await client.post(
                "/api/v1/transcriptions?lang=en&seconds=75",
                content=b"\x1aE\xdf\xa3" + b"\0" * 1000,
                headers={"Content-Type": "audio/webm"},
            )
            assert reply.json()["error"]["code"] == "audio_too_long"
        assert server.behaviour.hits == 0  # nothing refused here reached the engine


async def test_without_a_transcriber_voice_input_is_not_offered(client):
    assert (await client.get("/api/v1/speech")).json()["transcribes"] is False
    reply = await client.post(
        "/api/v1/transcriptions?lang=zh-CN",
        content=b"RIFF....",
        headers={"Content-Type": "audio/wav"},
    )
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "transcription_unavailable"
    assert "12345" in reply.json()["error"]["message"]
