"""The portal in headless Chromium, as residents with disabilities use it: axe-core (WCAG 2.0,
2.1 and 2.2 A and AA, target-size on), Chromium's accessibility tree, sizes, contrast, reflow,
keyboard only, announcements, read-aloud, and the toolbar's settings."""

from __future__ import annotations

import json
import re

import httpx
import pytest

import locales
from tests.portal import a11y
from tests.portal.a11y import ask_first_hot_question, check_every_mode, open_portal, settle

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("locale", ["zh-CN", "en", "ar", "zh-HK"])
def test_no_violations_and_every_control_named_in_the_page_language(
    portal_url, browser, locale, width
):
    page = open_portal(browser, f"{portal_url}/?lang={locale}", width=width, locale=locale)
    problems = check_every_mode(page, f"{locale}@{width} on load")
    problems += [f"unlocalized {c}" for c in a11y.unlocalized_controls(page, locale)]
    ask_first_hot_question(page)
    problems += check_every_mode(page, f"{locale}@{width} after an answer")
    problems += [f"unlocalized {c}" for c in a11y.unlocalized_controls(page, locale)]
    page.context.close()
    assert problems == []


@pytest.mark.parametrize("locale", ["zh-CN", "en", "ar", "zh-HK"])
def test_page_language_direction_title_and_landmarks(portal_url, browser, locale):
    page = open_portal(browser, f"{portal_url}/?lang={locale}", locale=locale)
    page.wait_for_timeout(300)  # Gradio's i18n sets <html lang> once it has started
    info = locales.info(locale)
    assert page.evaluate("document.documentElement.lang") == locale
    assert page.evaluate("document.documentElement.dir") == info.direction
    assert page.title() == locales.text("portal.title", locale)
    assert page.locator("h1").count() == 1
    assert page.locator("h1").inner_text() == locales.text("portal.heading", locale)
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("navigation", name=locales.text("portal.language", locale)).count() == 1
    log = page.get_by_role("log", name=locales.text("portal.transcript", locale))
    assert log.get_attribute("aria-busy") == "false"
    # the first thing a keyboard reaches is the skip link
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("document.activeElement.innerText") == locales.text(
        "portal.skip_to_question", locale
    )
    # Gradio's own page navigation is not shown: the language menu replaces it
    assert page.get_by_role("navigation").count() == 1
    page.context.close()


def test_foreign_language_answers_are_marked_and_links_say_they_open_a_new_window(
    portal_url, browser
):
    page = open_portal(browser, f"{portal_url}/?lang=en", locale="en")
    page.fill("#question textarea", "居住证怎么办理")
    page.press("#question textarea", "Enter")
    # the complete answer (the one streaming has no language yet)
    answer = page.locator("#transcript article.from-assistant[data-message]").last
    answer.wait_for(timeout=20_000)
    assert answer.locator(".answer").get_attribute("lang") == "zh"
    link = answer.locator(".sources a").first
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in link.get_attribute("rel")
    assert link.inner_text().endswith("(opens in a new window)")
    assert link.locator("[lang=zh]").count() == 1  # the Chinese title inside an English page
    page.context.close()


def test_keyboard_only_ask_and_read_the_answer(portal_url, browser):
    page = open_portal(browser, f"{portal_url}/?lang=zh-CN")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.closest('#question') !== null")
    page.keyboard.type("社保卡")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("丢了怎么办")
    assert page.input_value("#question textarea") == "社保卡\n丢了怎么办"
    page.keyboard.press("Enter")
    page.wait_for_selector("#transcript[data-state=done] article.from-assistant", timeout=20_000)
    page.wait_for_timeout(300)
    # focus came back to the question box, which is empty and ready for the next question
    assert page.evaluate("document.activeElement === document.querySelector('#question textarea')")
    assert page.input_value("#question textarea") == ""
    # the transcript is reached by its shortcut, and the page scrolls on with the keyboard
    page.keyboard.press("Alt+Shift+KeyC")
    assert page.evaluate("document.activeElement.id") == "transcript"
    before = page.evaluate("scrollY")
    page.keyboard.press("PageDown")
    page.wait_for_timeout(200)
    assert page.evaluate("scrollY") > before
    text = page.locator("#transcript").inner_text()
    assert "社保卡" in text and "智能客服说" in text
    # and the question box is one shortcut away from anywhere
    page.keyboard.press("Alt+Shift+KeyQ")
    assert page.evaluate("document.activeElement === document.querySelector('#question textarea')")
    page.context.close()


def test_focus_is_visible_on_every_control(portal_url, browser):
    page = open_portal(browser, f"{portal_url}/?lang=zh-CN")
    ask_first_hot_question(page)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    rings = a11y.focus_rings(page, stops=120)
    tags = {ring["tag"] for ring in rings}
    assert {"A", "BUTTON", "SUMMARY", "TEXTAREA"} <= tags
    weak = [
        ring
        for ring in rings
        if ring["style"] == "none"
        or ring["width"] < 2
        or a11y.contrast(ring["color"], ring["background"]) < 3
    ]
    assert weak == []
    page.context.close()


def test_each_message_is_announced_once_and_the_log_is_busy_while_streaming(
    streaming_portal_url, browser
):
    page = open_portal(browser, f"{streaming_portal_url}/?lang=zh-CN")
    page.evaluate(
        """window.liveText = [];
        new MutationObserver(records => records.forEach(r => r.addedNodes.forEach(n =>
            window.liveText.push(n.textContent)))).observe(
            document.getElementById('a11y-announcer'), {childList: true});"""
    )
    page.fill("#question textarea", "居住证")
    page.click("#send")
    page.wait_for_selector("#transcript[aria-busy=true] .streaming", timeout=10_000)
    assert page.locator("#conversation [role=status]").inner_text() == ""
    busy_announcements = page.evaluate("window.liveText.length")
    page.wait_for_selector("#transcript[data-state=done]", timeout=20_000)
    page.wait_for_timeout(300)
    assert page.get_attribute("#transcript", "aria-busy") == "false"
    announced = page.evaluate("window.liveText")
    assert busy_announcements == 1  # only the question while the answer streamed
    assert announced[0] == "您说：居住证"
    assert len(announced) == 2 and announced[1].startswith("智能客服说：Residence permit")
    assert "**" not in announced[1]
    page.context.close()


def test_searching_status_and_errors_as_alerts(portal_url, browser):
    page = open_portal(browser, f"{portal_url}/?lang=en", locale="en")
    page.evaluate(
        """window.statuses = [];
        new MutationObserver(() => window.statuses.push(
            document.querySelector('#conversation [role=status]').textContent)).observe(
            document.getElementById('conversation'), {subtree: true, childList: true,
            characterData: true});"""
    )
    page.fill("#question textarea", "x" * 1200)
    page.press("#question textarea", "Enter")
    alert = page.get_by_role("alert")
    alert.filter(has_text="too long").wait_for(timeout=20_000)
    assert "Searching…" in page.evaluate("window.statuses")
    # the question is kept in the box so it is not lost
    page.wait_for_function("document.querySelector('#question textarea').value.length === 1200")
    page.context.close()


def test_toolbar_settings_are_remembered_applied_before_paint_and_set_by_url(portal_url, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    # What <html> carries when the document has just been parsed, before Gradio runs.
    page.add_init_script(
        """document.addEventListener('DOMContentLoaded', () => {
            window.atFirstPaint = Object.assign({}, document.documentElement.dataset);
        });"""
    )
    page.goto(f"{portal_url}/?lang=en&mode=elder&contrast=high")
    page.wait_for_selector("#shortcuts .chip", timeout=20_000)
    first = page.evaluate("window.atFirstPaint")
    assert first["mode"] == "elder" and first["contrast"] == "high"
    body_text = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.intro')).fontSize)"
    )
    assert body_text >= 24
    # the toolbar shows the state, changes it, and the change survives a reload
    page.click("summary:has-text('Accessibility tools')")
    page.click("button:has-text('Larger text')")
    page.click("button:has-text('Larger text')")
    page.get_by_role("button", name="Dark").click()
    assert page.get_by_role("button", name="Dark").get_attribute("aria-pressed") == "true"
    assert page.get_by_role("button", name="Senior mode").get_attribute("aria-pressed") == "true"
    page.goto(f"{portal_url}/?lang=en")
    page.wait_for_selector("#shortcuts .chip", timeout=20_000)
    first = page.evaluate("window.atFirstPaint")
    assert first == {**first, "mode": "elder", "contrast": "dark", "size": "2"}
    page.evaluate("portalAccessibility.set('size', '0')")
    page.keyboard.press("Alt+Shift+Equal")
    assert page.locator("#a11y-announcer p").last.inner_text() == "Text size: 125%"
    # 200 % text at 320 px still does not scroll sideways
    page.set_viewport_size({"width": 320, "height": 700})
    page.evaluate("portalAccessibility.set('size', '4')")
    settle(page)
    assert a11y.horizontal_overflow(page) == 0
    # every aid switches on and shows itself
    for name in ("spacing", "cursor", "guide", "captions", "plain"):
        page.evaluate(
            f"portalAccessibility.set('{name}', '{'wide' if name == 'spacing' else 'on'}')"
        )
    page.hover("h1")
    page.wait_for_timeout(100)
    assert page.locator(".caption-bar").inner_text() == "Government Services Assistant"
    assert page.locator(".caption-bar").get_attribute("aria-hidden") == "true"
    assert page.locator(".reading-guide").count() == 2
    assert "url(" in page.evaluate("getComputedStyle(document.body).cursor")
    # reset returns to the defaults and forgets them
    page.evaluate("portalAccessibility.reset()")
    page.reload()
    page.wait_for_selector("#shortcuts .chip", timeout=20_000)
    defaults = page.evaluate("window.atFirstPaint")
    assert defaults["mode"] == "standard" and defaults["contrast"] == "normal"
    assert defaults["size"] == "0" and defaults["captions"] == "off"
    context.close()


def test_the_system_forced_colours_and_dark_preference_are_respected(portal_url, browser):
    context = browser.new_context(color_scheme="dark", forced_colors="active")
    page = context.new_page()
    page.goto(f"{portal_url}/?lang=en")
    page.wait_for_selector("#shortcuts .chip", timeout=20_000)
    assert page.evaluate("document.documentElement.dataset.contrast") == "dark"
    assert page.evaluate("matchMedia('(forced-colors: active)').matches")
    assert a11y.axe_violations(page) == []
    context.close()


def test_keyboard_shortcuts_are_listed_and_avoid_browser_and_reader_keys(portal_url, browser):
    page = open_portal(browser, f"{portal_url}/?lang=zh-CN")
    page.keyboard.press("Alt+Shift+KeyH")
    dialog = page.get_by_role("dialog", name="键盘快捷键")
    dialog.wait_for()
    rows = page.locator("#a11y-help tbody tr").all_inner_texts()
    assert any("Alt+Shift+Q" in row and "跳到提问框" in row for row in rows)
    keys = page.eval_on_selector_all(
        "#a11y-help tr[data-key]", "rows => rows.map(r => r.dataset.key)"
    )
    assert not any(re.fullmatch(r"Digit\d", key) for key in keys)  # no Alt+1–9
    assert not {"KeyA", "KeyI", "KeyT"} & set(keys)  # Chrome's own Alt+Shift keys
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    page.keyboard.press("Alt+Shift+KeyE")
    assert page.evaluate("document.documentElement.dataset.mode") == "elder"
    # elder mode shows fewer elements, and keeps the ones that matter
    assert not page.locator(".categories").is_visible()
    assert page.locator("#clear").is_visible() and page.locator("#send").is_visible()
    page.keyboard.press("Alt+Shift+KeyK")
    assert page.evaluate("document.documentElement.dataset.contrast") == "high"
    page.keyboard.press("Alt+Shift+Equal")
    assert page.evaluate("document.documentElement.dataset.size") == "1"
    page.evaluate("portalAccessibility.reset()")
    page.context.close()


#: A browser with an English voice: headless Chromium has none, so the page is given one and
#: each utterance ends as a real one would.
SPEECH_SPY = """
window.spoken = [];
const voice = {lang: 'en-US', name: 'English', voiceURI: 'en', localService: true, default: true};
speechSynthesis.getVoices = () => [voice];
speechSynthesis.speak = (u) => {
  window.spoken.push({text: u.text, lang: u.lang, rate: u.rate});
  setTimeout(() => u.onend && u.onend(new Event('end')), 10);
};
const cancel = speechSynthesis.cancel.bind(speechSynthesis);
window.cancels = 0;
speechSynthesis.cancel = () => { window.cancels++; cancel(); };
"""


def test_read_aloud_per_answer_whole_conversation_pointing_and_speeds(portal_url, browser):
    context = browser.new_context(locale="en")
    page = context.new_page()
    page.add_init_script(SPEECH_SPY)
    page.goto(f"{portal_url}/?lang=en")
    page.wait_for_selector("#shortcuts .chip", timeout=20_000)
    ask_first_hot_question(page)
    answer = page.locator("#transcript article.from-assistant").last
    answer.get_by_role("button", name="Read this answer aloud").click()
    spoken = page.evaluate("window.spoken")
    assert spoken[0] == {"text": "Assistant said", "lang": "en", "rate": 1}
    assert spoken[1]["text"] == answer.get_attribute("data-text")
    assert spoken[1]["lang"] == answer.get_attribute("data-lang")  # the answer's language
    assert "**" not in spoken[1]["text"]
    # slow speed, the whole conversation, stop
    page.click("summary:has-text('Accessibility tools')")
    page.get_by_role("button", name="Slow").click()
    page.evaluate("window.spoken = []")
    page.get_by_role("button", name="Read the whole conversation").click()
    spoken = page.evaluate("window.spoken")
    assert [s["text"] for s in spoken[::2]] == ["You said", "Assistant said"]
    assert {s["rate"] for s in spoken} == {0.75}
    cancels = page.evaluate("window.cancels")
    page.get_by_role("button", name="Stop reading").click()
    assert page.evaluate("window.cancels") == cancels + 1
    # point-to-read: with sound on, what the pointer rests on is read in its language
    page.get_by_role("button", name="Sound").click()
    page.get_by_role("button", name="Read what I point at").click()
    page.evaluate("window.spoken = []")
    page.hover("h1")
    page.wait_for_timeout(600)
    assert page.evaluate("window.spoken")[-1]["text"] == "Government Services Assistant"
    page.evaluate("portalAccessibility.reset()")
    context.close()


def test_language_from_the_switcher_the_url_and_the_browser(portal_url, browser):
    assert len(locales.available()) >= 14
    page = open_portal(browser, f"{portal_url}/", locale="fr-FR")
    assert (
        page.url.rstrip("/").endswith("/fr")
        and page.evaluate("document.documentElement.lang") == "fr"
    )
    page.click("details.languages summary")
    names = page.locator("details.languages a").all_inner_texts()
    assert names == [locales.info(code).name for code in locales.available()]
    page.get_by_role("link", name="العربية").click()
    page.wait_for_selector("#shortcuts .chip", timeout=20_000)
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        "ar",
        "rtl",
    ]
    assert page.get_by_role("button", name="إرسال").count() == 1
    page.context.close()
    # the server answers / with a redirect to the resident's page, keeping the settings
    reply = httpx.get(f"{portal_url}/?lang=lo&mode=elder", follow_redirects=False)
    assert reply.status_code == 307 and reply.headers["location"].endswith("/lo?lang=lo&mode=elder")


def test_clear_asks_for_confirmation_and_feedback_takes_a_comment(portal_url, browser):
    page = open_portal(browser, f"{portal_url}/?lang=zh-CN")
    ask_first_hot_question(page)
    page.evaluate("portalAccessibility.set('mode', 'elder')")
    assert page.locator("#helpful").is_visible() and page.locator("#not-helpful").is_visible()
    assert not page.locator("#feedback textarea").is_visible()  # fewer elements
    page.evaluate("portalAccessibility.set('mode', 'standard')")
    page.fill("#feedback textarea", "写得很清楚")
    page.click("#helpful")
    page.get_by_role("status").filter(has_text="感谢您的评价").wait_for(timeout=10_000)
    page.wait_for_function(
        "document.activeElement === document.querySelector('#question textarea')"
    )
    page.click("#clear")
    page.locator("#clear-confirm").wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'clear-no'")
    page.keyboard.press("Enter")  # cancel: nothing is lost
    page.wait_for_function("document.activeElement && document.activeElement.id === 'clear'")
    assert page.locator("#transcript article").count() == 2
    page.keyboard.press("Enter")
    page.click("#clear-yes")
    page.wait_for_function("document.querySelectorAll('#transcript article').length === 0")
    assert page.get_by_role("status").filter(has_text="对话记录已清空").count() == 1
    page.context.close()


def test_every_language_page_has_the_hotline_privacy_notice_and_its_own_language(portal_url):
    for code in locales.available():
        reply = httpx.get(f"{portal_url}/?lang={code}", follow_redirects=True)
        config = json.loads(re.search(r"window.gradio_config = (.*?);</script>", reply.text)[1])
        markup = json.dumps(config["components"], ensure_ascii=False)
        assert "tel:12345" in markup
        assert locales.text("portal.privacy_title", code) in markup
        assert f'lang="{code}" dir="{locales.info(code).direction}"' in reply.text
        assert reply.headers["content-language"] == code
