"""The portal's two voice routes (portal/voice.py) in front of a real gateway app: what they
refuse before anything is sent on (a body of the wrong type, too large a recording) and what
they pass through (the gateway's espeak-ng audio, its translated errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

import locales
from gateway.app import create_app
from portal.client import GatewayClient
from portal.voice import SPEECH_PATH, TRANSCRIPTION_PATH, mount_voice
from tests.conftest import started

pytestmark = pytest.mark.anyio

LIMIT = 4000
TOML = f"""
[knowledge]
embedder = "none"
[speech]
max_audio_bytes = {LIMIT}
"""


@pytest.fixture
async def portal(make_settings) -> AsyncIterator[httpx.AsyncClient]:
    """The voice routes alone, reaching the gateway app through the portal's client."""
    settings = make_settings(TOML)
    async for gateway in started(create_app(settings)):
        app = Starlette()
        mount_voice(app, GatewayClient(client=gateway), settings)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            yield client


def error(reply: httpx.Response) -> tuple[int, str, str]:
    problem = reply.json()["error"]
    return reply.status_code, problem["code"], problem["message"]


async def test_speech_takes_json_only_and_says_so_in_the_pages_language(portal):
    url = f"{SPEECH_PATH}?lang=ko"
    refusal = (415, "unsupported_media_type", locales.text("error.unsupported_media_type", "ko"))
    body = '{"text": "안녕하세요", "lang": "ko"}'
    for media_type in ("text/plain", "application/x-www-form-urlencoded", "audio/wav"):
        reply = await portal.post(url, content=body, headers={"Content-Type": media_type})
        assert error(reply) == refusal, media_type
    assert error(await portal.post(url, content=body)) == refusal  # no type at all
    # the type the page's script sends: the gateway's espeak-ng audio comes back
    spoken = await portal.post(
        url, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/wav"
    assert spoken.content[:4] == b"RIFF" and len(spoken.content) > 10_000
    broken = await portal.post(url, content="{", headers={"Content-Type": "application/json"})
    assert error(broken)[:2] == (400, "invalid_json")


async def test_transcription_takes_audio_only_with_its_limits_kept(portal):
    url = f"{TRANSCRIPTION_PATH}?lang=ar"
    hotline = "12345"
    refusal = (
        415,
        "unsupported_audio",
        locales.text("error.unsupported_audio", "ar", hotline=hotline),
    )
    for media_type in ("text/plain", "application/json", "multipart/form-data", "audio/", ""):
        headers = {"Content-Type": media_type} if media_type else {}
        reply = await portal.post(url, content=b"\x1aE\xdf\xa3" + b"\0" * 100, headers=headers)
        assert error(reply) == refusal, media_type
    # a recording's type passes; with no transcriber configured the gateway says so
    webm = {"Content-Type": "audio/webm;codecs=opus"}
    passed = await portal.post(url, content=b"\x1aE\xdf\xa3" + b"\0" * 100, headers=webm)
    assert error(passed) == (
        503,
        "transcription_unavailable",
        locales.text("error.transcription_unavailable", "ar", hotline=hotline),
    )
    # the size limits still hold, in the page's language
    over = await portal.post(url, content=b"\0" * (2 * LIMIT + 1), headers=webm)
    assert error(over) == (413, "audio_too_large", locales.text("error.audio_too_large", "ar"))
