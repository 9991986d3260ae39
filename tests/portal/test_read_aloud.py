"""Read-aloud where the browser has no voice (headless Chromium has none, like many PCs for
Chinese, Cantonese or Lao): the gateway's espeak-ng audio, played through the page's player
at the chosen speed, answer by answer and continuously; and a button that says so, in the
page's language, when nobody can read a language."""

from __future__ import annotations

import subprocess
import tempfile

import httpx
import pytest

import locales
from tests.portal.a11y import ask_first_hot_question
from tests.portal.conftest import run_portal

pytestmark = pytest.mark.slow

#: Events of the page's audio element, in order.
AUDIO_SPY = """
window.audioEvents = [];
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (!this.dataset.spied) {
    this.dataset.spied = '1';
    ['playing', 'ended', 'pause'].forEach(name => this.addEventListener(name, () =>
      window.audioEvents.push({event: name, rate: this.playbackRate})));
  }
  return play.call(this);
};
"""


def peak(wav: bytes) -> float:
    with tempfile.NamedTemporaryFile(suffix=".wav") as file:
        file.write(wav)
        file.flush()
        report = subprocess.run(
            ["sox", file.name, "-n", "stat"], capture_output=True, text=True, check=True
        ).stderr
    return float(next(x for x in report.splitlines() if x.startswith("Maximum amp")).split(":")[1])


def speech_page(browser, url: str, locale: str):
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.add_init_script(AUDIO_SPY)
    page.goto(url)
    page.wait_for_selector("#shortcuts .chip", timeout=20_000)
    page.wait_for_selector("#voice-support", state="attached")
    return page


def test_without_a_browser_voice_the_gateways_audio_is_played_at_the_chosen_speed(
    portal_url, browser
):
    page = speech_page(browser, f"{portal_url}/?lang=zh-CN", "zh-CN")
    assert page.evaluate("speechSynthesis.getVoices().length") == 0  # as on many PCs
    ask_first_hot_question(page)
    answer = page.locator("#transcript article.from-assistant").last
    asked: list[dict] = []
    page.on(
        "request", lambda r: asked.append(r.post_data_json) if "/voice/speech" in r.url else None
    )
    with page.expect_response(lambda r: r.url.endswith("/voice/speech")) as heard:
        answer.get_by_role("button", name="朗读这条回答").click()
    reply = heard.value
    assert reply.status == 200 and reply.headers["content-type"] == "audio/wav"
    # the same request again, for sox (Playwright does not keep a fetched blob's body)
    audio = httpx.post(f"{portal_url}/voice/speech", json=reply.request.post_data_json)
    assert peak(audio.content) > 0.2  # real speech, not silence
    page.wait_for_function("window.audioEvents.some(e => e.event === 'playing')")
    # and the browser decoded it as speech of some length
    assert page.evaluate("document.querySelector('audio').duration") > 0.5
    # the player says what it does, in the page's language, and offers the speeds and stop
    player = page.get_by_role("region", name="朗读")
    assert player.is_visible()
    assert player.get_by_role("status").inner_text() == "正在朗读…"
    # who speaks, then the answer, one after the other
    page.wait_for_function(
        "window.audioEvents.filter(e => e.event === 'playing').length >= 2", timeout=20_000
    )
    assert asked[:2] == [
        {"text": "智能客服说", "lang": "zh-CN"},
        {"text": answer.get_attribute("data-text"), "lang": answer.get_attribute("data-lang")},
    ]
    player.get_by_role("button", name="慢").click()
    assert page.evaluate("document.querySelector('audio').playbackRate") == 0.75
    assert player.get_by_role("button", name="慢").get_attribute("aria-pressed") == "true"
    player.get_by_role("button", name="停止朗读").click()
    assert page.evaluate("document.querySelector('audio').paused")
    assert not player.is_visible()
    # continuous: the whole conversation, part after part, at the fast speed
    page.evaluate("portalAccessibility.set('speed', 'fast')")
    asked.clear()
    page.evaluate("document.getElementById('a11y-tools').open = true")
    page.get_by_role("button", name="朗读全部对话").click()
    page.wait_for_function(
        "window.audioEvents.filter(e => e.event === 'playing').length >= 4", timeout=20_000
    )
    question = page.locator("#transcript article.from-resident").last.get_attribute("data-text")
    assert [a["text"] for a in asked[:2]] == ["您说", question]
    rates = page.evaluate("window.audioEvents.filter(e => e.event === 'playing').map(e => e.rate)")
    assert rates[-1] == 1.35
    page.keyboard.press("Escape")  # stops reading
    assert page.evaluate("document.querySelector('audio').paused")
    page.evaluate("portalAccessibility.reset()")
    page.context.close()


def test_with_sound_on_each_new_answer_is_read_by_the_gateway(portal_url, browser):
    page = speech_page(browser, f"{portal_url}/?lang=zh-HK", "zh-HK")
    page.evaluate("portalAccessibility.set('sound', 'on')")
    with page.expect_response(lambda r: r.url.endswith("/voice/speech"), timeout=20_000) as heard:
        ask_first_hot_question(page)
    assert heard.value.status == 200 and heard.value.headers["content-type"] == "audio/wav"
    page.wait_for_function("window.audioEvents.some(e => e.event === 'playing')")
    page.evaluate("portalAccessibility.reset()")
    page.context.close()


@pytest.fixture(scope="module")
def silent_portal_url(tmp_path_factory):
    """The portal with no speaker in the gateway: headless Chromium has no voice either."""
    yield from run_portal(tmp_path_factory, GATEWAY_SPEECH__SPEAKER="none")


@pytest.mark.parametrize("locale", ["lo", "en"])
def test_when_nobody_can_read_a_language_the_button_says_so_in_the_pages_language(
    silent_portal_url, browser, locale
):
    page = speech_page(browser, f"{silent_portal_url}/?lang={locale}", locale)
    ask_first_hot_question(page)
    unavailable = locales.text("portal.read_unavailable", locale)
    button = page.locator("#transcript .read-aloud").last
    page.wait_for_function(
        "b => b.textContent === b.dataset.unavailable", arg=button.element_handle()
    )
    assert button.inner_text() == unavailable
    assert button.get_attribute("aria-disabled") == "true"
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "/voice/speech" in r.url else 0)
    button.focus()  # aria-disabled, but still operable: it says why it cannot read
    page.keyboard.press("Enter")
    page.locator("#a11y-announcer p", has_text=unavailable).wait_for(state="attached")
    assert requests == []  # nothing asked of a gateway that cannot read aloud
    page.context.close()
