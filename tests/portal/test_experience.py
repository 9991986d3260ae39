"""What an older, blind or foreign resident experiences (issue 17), in headless Chromium:
whether a switch looks pressed, where the focus is after an answer, whether the conversation
scrolls with the page, what a screen reader reads in order, whether Chinese is left unmarked
on foreign pages, and how the page looks on a phone with elder mode and 200 % text.

Each test here failed before the fix it guards: axe found none of these."""

from __future__ import annotations

import pytest

import locales
from tests.portal import a11y
from tests.portal.a11y import ask_first_hot_question, open_portal, settle

pytestmark = pytest.mark.slow

SCHEMES = ["normal", "high", "dark"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_pressed_switches_look_different_in_colour_and_shape(portal_url, browser, scheme):
    page = open_portal(browser, f"{portal_url}/?lang=zh-CN&contrast={scheme}")
    page.evaluate("document.getElementById('a11y-tools').open = true")
    states = a11y.switch_states(page)
    assert {"长者模式", "声音", "指读", "连读", "慢", "中", "快", "标准", "大鼠标"} <= {
        s["label"].lstrip("✓ ") for s in states
    }
    alike = [
        s["label"]
        for s in states
        if a11y.contrast(s["on"]["background"], s["off"]["background"]) < 3
        or s["on"]["marker"] == s["off"]["marker"]
        or s["on"]["border"] <= s["off"]["border"]
    ]
    assert alike == []
    # and what is pressed is readable: text on the pressed colour ≥ 4.5:1
    weak = [
        s["label"] for s in states if a11y.contrast(s["on"]["color"], s["on"]["background"]) < 4.5
    ]
    assert weak == []
    page.evaluate("portalAccessibility.reset()")
    page.context.close()


#: Width, mode, text size and whether read-aloud is on and reads on continuously: desktop,
#: and phones with elder mode at 100 % and 200 % text, also while answers are read aloud.
PHONES = [
    (1280, "standard", "0", False),
    (375, "elder", "0", False),
    (375, "elder", "4", False),
    (320, "elder", "4", False),
    (375, "elder", "4", True),
    (320, "elder", "4", True),
]


def open_phone(browser, url: str, width: int, mode: str, size: str, reading: bool):
    page = open_portal(browser, f"{url}/?lang=zh-CN&mode={mode}&size={size}", width=width)
    if reading:
        page.evaluate(
            "portalAccessibility.set('sound', 'on'); portalAccessibility.set('readmode', "
            "'continuous')"
        )
    return page


@pytest.mark.parametrize(("width", "mode", "size", "reading"), PHONES)
def test_the_focused_question_box_is_in_view_after_every_answer(
    portal_url, browser, width, mode, size, reading
):
    page = open_phone(browser, portal_url, width, mode, size, reading)
    for question in ("居住证怎么办理", "社保卡丢了怎么办", "怎么提取公积金"):
        page.fill("#question textarea", question)
        page.press("#question textarea", "Enter")
        count = page.locator("#transcript article.from-assistant").count()
        page.wait_for_function(
            f"document.querySelectorAll('#transcript article.from-assistant[data-message]')"
            f".length > {count} && document.getElementById('transcript').dataset.state === 'done'",
            timeout=20_000,
        )
        # once the rating buttons are drawn above the box, and once the player (reading the
        # answer aloud) is drawn under it
        for wait in (1500, 1000):
            page.wait_for_timeout(wait)
            where = a11y.focus_in_view(page)
            assert where["question"] and where["visible"], (question, wait, where)
    page.evaluate("portalAccessibility.reset()")
    page.context.close()


@pytest.mark.parametrize(("width", "mode", "size", "reading"), PHONES)
def test_the_conversation_grows_in_the_page_not_in_a_box_of_its_own(
    portal_url, browser, width, mode, size, reading
):
    page = open_phone(browser, portal_url, width, mode, size, reading)
    ask_first_hot_question(page)
    if reading:
        page.wait_for_selector("#speech-player:not([hidden])", timeout=20_000)
    assert a11y.inner_scrollers(page) == []
    # the whole answer, its sources, related questions and 朗读 are on the page itself
    answer = page.locator("#transcript article.from-assistant").last
    transcript = page.locator("#transcript").bounding_box()
    assert transcript["height"] >= answer.bounding_box()["height"]
    assert page.evaluate("document.scrollingElement.scrollHeight > innerHeight")
    page.locator("#transcript .read-aloud").last.scroll_into_view_if_needed()
    assert page.locator("#transcript .read-aloud").last.is_visible()
    page.evaluate("portalAccessibility.reset()")
    page.context.close()


def test_a_screen_reader_reading_in_order_meets_each_message_once_under_headings(
    portal_url, browser
):
    page = open_portal(browser, f"{portal_url}/?lang=zh-CN")
    page.fill("#question textarea", "社保卡丢了怎么办")
    page.press("#question textarea", "Enter")
    page.wait_for_selector("#transcript[data-state=done] article.from-assistant", timeout=20_000)
    settle(page)
    answer = page.locator("#transcript article.from-assistant").last.get_attribute("data-text")
    opening = a11y._squash(answer).split("。")[0]  # list numbers are not text in the tree
    # announced once, then gone from the page, so reading on does not meet it again
    page.wait_for_function("!document.querySelector('#a11y-announcer p')", timeout=5000)
    order = a11y.reading_order(page)
    assert order.count(opening) == 1
    assert order.count(a11y._squash("社保卡丢了怎么办")) == 1
    # each message an article named by its heading; its parts headings under it
    assert page.get_by_role("article", name="您说").count() == 1
    assert page.get_by_role("article", name="智能客服说").count() == 1
    assert page.get_by_role("heading", name="您说", level=3).count() == 1
    assert page.get_by_role("heading", name="智能客服说", level=3).count() == 1
    assert page.get_by_role("heading", name="信息来源", level=4).count() == 1
    assert page.get_by_role("heading", name="您可能还想问", level=4).count() == 1
    # the heading of the conversation comes before the messages; the announcer after them
    assert order.index(a11y._squash("对话记录")) < order.index(opening)
    assert page.evaluate(
        "document.getElementById('a11y-announcer').compareDocumentPosition("
        "document.getElementById('transcript')) & Node.DOCUMENT_POSITION_PRECEDING"
    )
    page.context.close()


@pytest.mark.parametrize("locale", ["en", "ko", "ar"])
def test_no_chinese_is_left_unmarked_on_a_foreign_page(portal_url, browser, locale):
    page = open_portal(browser, f"{portal_url}/?lang={locale}", locale=locale)
    assert a11y.chinese_outside_marks(page) == []
    hot = page.locator("#shortcuts ul.hot .chip")
    marks = hot.evaluate_all("chips => chips.map(c => c.hasAttribute('data-untranslated'))")
    # what has a curated translation comes first; the rest say they are not translated
    assert marks == sorted(marks)
    untranslated = locales.text("portal.untranslated", locale)
    for chip in hot.all():
        if chip.get_attribute("data-untranslated") is not None:
            assert chip.inner_text().endswith(untranslated)
    if locale == "en":
        assert not any(marks[:5])  # English has curated translations of the top questions
    hot.last.click()  # an untranslated one, where there are any
    page.wait_for_selector("#transcript[data-state=done] article.from-assistant", timeout=20_000)
    settle(page)
    assert a11y.chinese_outside_marks(page) == []
    answer = page.locator("#transcript article.from-assistant").last
    if answer.locator(".answer[data-untranslated]").count():
        notice = locales.text("portal.answer_untranslated", locale)
        assert answer.locator(".notice", has_text=notice).count() == 1
    # a typo'd question (did-you-mean and its "as I typed" chip, a Chinese answer, sources,
    # related questions), one the base has no answer to (the hotline), one refused (an error)
    for typed in ("居主证怎么半", "火星签证怎么办", "x" * 1200):
        ask_typed(page, typed)
        assert a11y.chinese_outside_marks(page) == [], typed
    page.context.close()


def ask_typed(page, text: str) -> None:
    """Type ``text`` in the question box, send it, wait for its answer to be complete."""
    count = page.locator("#transcript article.from-assistant").count()
    page.fill("#question textarea", text)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#transcript article.from-assistant').length > {count}"
        " && document.getElementById('transcript').dataset.state === 'done'",
        timeout=20_000,
    )
    settle(page)


@pytest.mark.parametrize(
    ("width", "mode", "size"),
    [(375, "standard", "0"), (375, "elder", "0"), (375, "elder", "4"), (320, "elder", "4")],
)
def test_phone_layout_keeps_words_whole_and_the_question_box_full_width(
    portal_url, browser, width, mode, size
):
    page = open_portal(browser, f"{portal_url}/?lang=zh-CN&mode={mode}&size={size}", width=width)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    settle(page)
    problems = a11y.cramped_text(page)
    box = page.locator("#question textarea").bounding_box()
    send = page.locator("#send").bounding_box()
    row = page.locator("#ask-row").bounding_box()
    assert box["width"] >= 0.85 * row["width"], (box, row)
    assert send["y"] >= box["y"] + box["height"]  # 发送 under the box, not squeezing it
    ask_first_hot_question(page)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    settle(page)
    problems += a11y.cramped_text(page)
    assert problems == []
    assert a11y.horizontal_overflow(page) == 0
    page.evaluate("portalAccessibility.reset()")
    page.context.close()
