"""Voice input (语音) in headless Chromium with a fake microphone that plays speech made by
espeak-ng: the button, its recording state and stop, the transcript landing in the question
box, the length limit, and errors in the page's language. The gateway's transcriber is the
``openai`` one, against a local server speaking ``/v1/audio/transcriptions``
(tests/servers/openai_audio.py)."""

from __future__ import annotations

import subprocess

import httpx
import pytest

import locales
from tests.browser import chromium
from tests.portal.conftest import run_portal
from tests.servers import running
from tests.servers.openai_audio import create_app as audio_server
from tests.servers.openai_audio import espeak_wav

pytestmark = pytest.mark.slow

SAID = "How do I apply for a residence permit?"
LIMIT_SECONDS = 4
MAX_BYTES = 200_000


@pytest.fixture(scope="module")
def audio():
    with running(audio_server) as server:
        server.behaviour.extra["transcript"] = SAID
        yield server


@pytest.fixture(scope="module")
def listening_portal_url(tmp_path_factory, audio):
    yield from run_portal(
        tmp_path_factory,
        GATEWAY_SPEECH__TRANSCRIBER="openai",
        GATEWAY_SPEECH__TRANSCRIBER_OPTIONS=f'{{url = "{audio.url}", model = "whisper-1"}}',
        GATEWAY_SPEECH__MAX_AUDIO_SECONDS=str(LIMIT_SECONDS),
        GATEWAY_SPEECH__MAX_AUDIO_BYTES=str(MAX_BYTES),
    )


@pytest.fixture(scope="module")
def microphone(tmp_path_factory):
    """Chromium whose microphone plays a resident asking, in a loop (its own process: the
    fake microphone is a launch switch)."""
    folder = tmp_path_factory.mktemp("microphone")
    spoken, wav = folder / "espeak.wav", folder / "question.wav"
    spoken.write_bytes(espeak_wav(SAID))
    # Chromium reads a plain 16-bit WAV with its size in the header: sox rewrites it so.
    subprocess.run(["sox", str(spoken), "-b", "16", str(wav)], check=True)
    with chromium(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
        "--autoplay-policy=no-user-gesture-required",
    ) as browser:
        yield browser


def open_page(browser, url: str, locale: str = "en"):
    context = browser.new_context(locale=locale)
    context.grant_permissions(["microphone"])
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#shortcuts .chip", timeout=20_000)
    return page


def test_speaking_a_question_puts_it_in_the_box_to_check_before_sending(
    listening_portal_url, microphone, audio
):
    page = open_page(microphone, f"{listening_portal_url}/?lang=en")
    button = page.get_by_role("button", name="Speak your question")
    button.wait_for()
    before = button.evaluate("b => getComputedStyle(b).backgroundColor")
    # keyboard: Tab reaches it, Enter starts
    button.focus()
    page.keyboard.press("Enter")
    status = page.locator("#voice-status")
    status.filter(has_text=locales.text("portal.voice_recording", "en")).wait_for()
    assert status.get_attribute("role") == "status"  # announced
    stop = page.get_by_role("button", name="Stop recording")
    assert stop.count() == 1 and "recording" in (stop.get_attribute("class") or "")
    assert stop.evaluate("b => getComputedStyle(b).backgroundColor") != before
    page.wait_for_timeout(1500)
    page.keyboard.press("Enter")  # the same button, now 停止
    page.wait_for_function(
        f"document.querySelector('#question textarea').value === {SAID!r}", timeout=20_000
    )
    # in the box, focused, not sent: the resident checks it first
    assert page.evaluate("document.activeElement === document.querySelector('#question textarea')")
    assert page.locator("#transcript article").count() == 0
    assert status.inner_text() == locales.text("portal.voice_done", "en")
    assert page.get_by_role("button", name="Speak your question").count() == 1
    upload = audio.requests[-1]
    assert upload["path"] == "/v1/audio/transcriptions"
    assert upload["json"]["language"] == "en" and upload["json"]["model"] == "whisper-1"
    assert upload["file"]["name"] == "speech.webm" and upload["file"]["bytes"] > 1000
    # Gradio has the value: sending it asks exactly that
    page.keyboard.press("Enter")
    page.wait_for_selector("#transcript[data-state=done] article.from-assistant", timeout=20_000)
    assert page.locator("#transcript article.from-resident").get_attribute("data-text") == SAID
    page.context.close()


def test_recording_stops_by_itself_at_the_limit_and_errors_are_shown_translated(
    listening_portal_url, microphone, audio
):
    page = open_page(microphone, f"{listening_portal_url}/?lang=ko", "ko")
    button = page.get_by_role("button", name=locales.text("portal.voice_input", "ko"))
    assert button.get_attribute("data-max-seconds") == str(LIMIT_SECONDS)
    button.click()
    page.get_by_role("button", name=locales.text("portal.voice_stop", "ko")).wait_for()
    # not stopped by hand: it stops at the limit and is written down
    page.wait_for_function(
        f"document.querySelector('#question textarea').value === {SAID!r}",
        timeout=(LIMIT_SECONDS + 10) * 1000,
    )
    # the transcription server failing: an alert in Korean, the box as it was
    audio.behaviour.status = 500
    try:
        page.get_by_role("button", name=locales.text("portal.voice_input", "ko")).click()
        page.wait_for_timeout(1000)
        page.get_by_role("button", name=locales.text("portal.voice_stop", "ko")).click()
        alert = page.locator("#voice-alert")
        alert.filter(has_text="12345").wait_for(timeout=20_000)
        assert alert.get_attribute("role") == "alert"
        assert alert.inner_text() == locales.text(
            "error.transcription_unavailable", "ko", hotline="12345"
        )
        assert page.input_value("#question textarea") == SAID
    finally:
        audio.behaviour.status = 200
    page.context.close()


def test_the_portal_passes_size_limits_on_with_translated_errors(listening_portal_url, audio):
    hits = audio.behaviour.hits
    url = f"{listening_portal_url}/voice/transcription?lang=ko"
    webm = {"Content-Type": "audio/webm"}
    over = httpx.post(url, content=b"\x1aE\xdf\xa3" + b"\0" * MAX_BYTES, headers=webm)
    assert over.status_code == 413
    assert over.json()["error"]["message"] == locales.text("error.audio_too_large", "ko")
    far_over = httpx.post(url, content=b"\0" * (2 * MAX_BYTES + 1), headers=webm)
    assert far_over.status_code == 413
    assert far_over.json()["error"]["code"] == "audio_too_large"
    too_long = httpx.post(
        f"{url}&seconds={LIMIT_SECONDS + 5}", content=b"\x1aE\xdf\xa3x", headers=webm
    )
    assert too_long.json()["error"]["message"] == locales.text(
        "error.audio_too_long", "ko", seconds=str(LIMIT_SECONDS)
    )
    not_audio = httpx.post(url, content=b"hello", headers={"Content-Type": "text/plain"})
    assert not_audio.status_code == 415
    assert not_audio.json()["error"]["message"] == locales.text(
        "error.unsupported_audio", "ko", hotline="12345"
    )
    assert audio.behaviour.hits == hits  # none of it reached the transcriber


def test_without_a_transcriber_there_is_no_voice_button(portal_url, microphone):
    page = open_page(microphone, f"{portal_url}/?lang=zh-CN", "zh-CN")
    page.wait_for_selector("#voice-support", state="attached")
    assert page.locator("#voice-input").count() == 0
    assert page.get_by_role("button", name="语音输入").count() == 0
    page.context.close()
