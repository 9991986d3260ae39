"""The widget on other sites, in headless Chromium: a host page on another loopback port adds
it with one script tag, a resident opens it with the keyboard and asks; axe on the host page
and inside the frame; messages only from the right window and origin; a site not on the
allowlist refused by the browser's ``frame-ancestors`` check; and the widget page itself
with the portal's accessibility guarantees in every UI language."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from playwright.sync_api import Frame, Page

import locales
from tests.browser import policy_reports
from tests.portal import a11y
from tests.portal.a11y import ask_first_hot_question, check_every_mode, open_portal, settle
from tests.portal.conftest import run_portal
from tests.servers.host_site import HostSite, host_site, page, script_tag

pytestmark = pytest.mark.slow

PENSION_ANSWER = "养老金窗口：请携带身份证到社保经办机构办理领取手续。"


@dataclass
class Sites:
    #: The assistant (the ``portal`` command), its allowlist naming ``host``.
    assistant: str
    #: A government site allowed to embed the widget.
    host: HostSite
    #: A site that is not.
    stranger: HostSite


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Iterator[Sites]:
    with host_site() as host, host_site() as stranger:
        for url in run_portal(
            tmp_path_factory,
            GATEWAY_SECURITY__FRAME_ANCESTORS=f'["\'self\'", "{host.url}"]',
            GATEWAY_BACKENDS='[{name = "faq", type = "faq"}, {name = "pension", '
            f'type = "static", answer = "{PENSION_ANSWER}"}}]',
            GATEWAY_ROUTES='[{agents = ["pension"], backends = ["pension"]}, {backends = ["faq"]}]',
        ):
            yield Sites(url, host, stranger)


# -- the host page ----------------------------------------------------------------------------


def open_host(browser, url: str, **context) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}, **context).new_page()
    page.goto(url)
    page.locator("button.launcher").wait_for()
    return page


def in_assistant(page: Page, script: str):
    """Evaluate ``script`` with ``root`` bound to the loader's shadow root."""
    return page.evaluate(
        f"() => {{ const root = document.querySelector('[data-gov-assistant]').shadowRoot; "
        f"return {script}; }}"
    )


def focused(page: Page) -> str:
    """The class of the loader's element that has the focus ('' when none has)."""
    return in_assistant(page, "root.activeElement ? root.activeElement.className : ''")


def panel_open(page: Page) -> bool:
    return not in_assistant(page, "root.querySelector('.panel').hidden")


def widget_frame(page: Page) -> Frame:
    page.wait_for_function(
        "() => document.querySelector('[data-gov-assistant]').shadowRoot.querySelector('iframe')"
    )
    frame = page.locator("iframe").element_handle().content_frame()
    assert frame is not None
    frame.wait_for_selector("#question textarea", timeout=20_000)
    return frame


def wait_for_question_focus(frame: Frame) -> None:
    frame.wait_for_function(
        "document.hasFocus() && document.activeElement === "
        "document.querySelector('#question textarea')",
        timeout=20_000,
    )


def tab_to_launcher(page: Page) -> None:
    for _ in range(10):
        page.keyboard.press("Tab")
        if focused(page) == "launcher":
            return
    raise AssertionError("the launcher is not reached with Tab")


def test_a_host_page_embeds_the_widget_with_one_script_tag_and_a_keyboard_opens_it(sites, browser):
    url = sites.host.add("/", page(script_tag(sites.assistant, lang="en", position="bottom-left")))
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    browser_page = context.new_page()
    requests: list[str] = []
    failures: list[str] = []
    refusals = policy_reports(browser_page)
    browser_page.on("request", lambda request: requests.append(request.url))
    browser_page.on(
        "response",
        lambda response: (
            failures.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    browser_page.goto(url)
    launcher = browser_page.get_by_role("button", name="Ask a question")
    launcher.wait_for()
    # Until a resident opens it, the widget costs the host page one small script.
    assert [r for r in requests if r.startswith(sites.assistant)] == [sites.assistant + "/embed.js"]
    assert a11y.axe_violations(browser_page) == []

    box = launcher.bounding_box()
    assert box and box["width"] >= 60 and box["height"] >= 60
    assert launcher.get_attribute("aria-expanded") == "false"
    assert in_assistant(browser_page, "root.querySelector('aside').lang") == "en"
    tab_to_launcher(browser_page)
    ring = in_assistant(
        browser_page,
        "(() => { const s = getComputedStyle(root.activeElement); "
        "return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; })()",
    )
    assert ring[0] != "none" and ring[1] >= 2
    assert a11y.contrast(ring[2], "rgb(255, 255, 255)") >= 3

    browser_page.keyboard.press("Enter")
    assert launcher.get_attribute("aria-expanded") == "true"
    dialog = browser_page.get_by_role("dialog", name="Government Services Assistant")
    assert dialog.is_visible()
    assert dialog.locator("iframe").get_attribute("title") == "Government Services Assistant"
    frame = widget_frame(browser_page)
    assert frame.evaluate("document.documentElement.lang") == "en"
    wait_for_question_focus(frame)  # the panel opened with the focus in the question box

    browser_page.keyboard.type("居住证怎么办理")
    browser_page.keyboard.press("Enter")
    frame.wait_for_selector("#transcript[data-state=done] article.from-assistant", timeout=20_000)
    assert "居住" in frame.locator("#transcript article.from-assistant").inner_text()
    wait_for_question_focus(frame)  # and the focus is back for the next question

    assert a11y.axe_violations(browser_page) == []
    assert a11y.axe_violations(frame) == []
    assert a11y.unlocalized_controls(frame, "en") == []

    # Esc in the widget closes the panel and gives the focus back to the launcher …
    browser_page.keyboard.press("Escape")
    browser_page.wait_for_function(
        "() => document.querySelector('[data-gov-assistant]').shadowRoot"
        ".querySelector('.panel').hidden"
    )
    assert focused(browser_page) == "launcher"
    assert launcher.get_attribute("aria-expanded") == "false"
    # … and so does the close button, next after the launcher; the conversation is still
    # there when the panel opens again.
    browser_page.keyboard.press("Enter")
    wait_for_question_focus(frame)
    assert frame.locator("#transcript article.from-assistant").count() == 1
    in_assistant(browser_page, "root.querySelector('.launcher').focus()")
    browser_page.keyboard.press("Tab")
    assert focused(browser_page) == "close"
    browser_page.keyboard.press("Enter")
    assert not panel_open(browser_page)
    assert focused(browser_page) == "launcher"

    # Every request went to the host site or the assistant: Gradio's assets are ours.
    origins = {"/".join(request.split("/")[:3]) for request in requests}
    assert origins == {sites.host.url, sites.assistant}
    assert any("/assets/" in request for request in requests)  # Gradio's, from the assistant
    assert refusals == []
    assert [f for f in failures if not f.endswith("/favicon.ico")] == []
    context.close()


def test_messages_are_taken_only_from_the_widget_frame(sites, browser):
    forger = sites.stranger.add(
        "/forge",
        "<!doctype html><html lang=en><title>forger</title><script>"
        "parent.postMessage({type: 'gov-assistant:close'}, '*');</script></html>",
    )
    url = sites.host.add(
        "/forged",
        page(
            script_tag(sites.assistant, lang="zh-CN")
            + '<p><button type="button" id="forge">forge</button></p>'
            + f"<script>document.getElementById('forge').onclick = () => {{"
            f"const frame = document.createElement('iframe'); frame.title = 'forger'; "
            f"frame.src = '{forger}'; document.body.appendChild(frame); }};</script>"
        ),
    )
    browser_page = open_host(browser, url)
    browser_page.locator("button.launcher").click()
    frame = widget_frame(browser_page)
    wait_for_question_focus(frame)
    # The host page itself, and a frame of another origin, say "close": nothing happens.
    browser_page.evaluate("window.postMessage({type: 'gov-assistant:close'}, '*')")
    browser_page.click("#forge")
    browser_page.wait_for_function(
        f"[...document.querySelectorAll('iframe')].some(f => f.src === {forger!r})"
    )
    browser_page.wait_for_timeout(200)
    next(f for f in browser_page.frames if f.url == forger).wait_for_load_state()
    browser_page.wait_for_timeout(500)
    assert panel_open(browser_page)
    # The widget says it, from its own origin: the panel closes.
    frame.evaluate("parent.postMessage({type: 'gov-assistant:close'}, '*')")
    browser_page.wait_for_function(
        "() => document.querySelector('[data-gov-assistant]').shadowRoot"
        ".querySelector('.panel').hidden"
    )
    # The page's own scripts open and close it through the loader's API.
    browser_page.evaluate("govAssistant.open()")
    assert panel_open(browser_page)
    browser_page.evaluate("govAssistant.toggle()")
    assert not panel_open(browser_page)
    browser_page.context.close()


def test_a_site_not_on_the_allowlist_is_refused_and_an_allowed_one_may_use_a_plain_iframe(
    sites, browser
):
    widget = f"{sites.assistant}/widget?lang=en"
    plain_iframe = f'<iframe title="Government Services Assistant" src="{widget}"></iframe>'
    refused = sites.stranger.add("/", page(script_tag(sites.assistant) + plain_iframe))
    context = browser.new_context()
    browser_page = context.new_page()
    messages: list[str] = []
    browser_page.on("console", lambda message: messages.append(message.text))
    browser_page.goto(refused)
    browser_page.wait_for_function("window.frames.length === 1")
    browser_page.wait_for_timeout(1500)
    # The loader draws nothing, and says why to the web team …
    assert browser_page.locator("[data-gov-assistant]").count() == 0
    assert any("frame_ancestors allowlist" in m for m in messages)
    # … and the browser refuses to show the widget in a frame there.
    assert any("frame-ancestors" in m and "blocked" in m for m in messages), messages
    frame = browser_page.frames[1]
    assert frame.url.startswith("chrome-error://")
    # The allowed site embeds the same URL with a plain iframe.
    allowed = sites.host.add("/plain", page(plain_iframe))
    browser_page.goto(allowed)
    browser_page.frames[1].wait_for_selector("#question textarea", timeout=20_000)
    context.close()


def test_position_reduced_motion_and_a_larger_panel_for_elder_mode(sites, browser):
    url = sites.host.add(
        "/corner",
        page(script_tag(sites.assistant, lang="en", position="bottom-left", offset_x="2rem")),
    )
    browser_page = open_host(browser, url)
    launcher = browser_page.locator("button.launcher")
    assert launcher.bounding_box()["x"] == pytest.approx(32, abs=1)  # type: ignore[index]
    launcher.click()
    frame = widget_frame(browser_page)
    # Neither the launcher nor the panel covers the site's own accessibility toolbar.
    toolbar = browser_page.locator("#site-toolbar").bounding_box()
    panel = browser_page.locator(".panel").bounding_box()
    for box in (launcher.bounding_box(), panel):
        assert box and toolbar
        assert box["x"] + box["width"] <= toolbar["x"] or box["y"] + box["height"] <= toolbar["y"]
    animation = "getComputedStyle(root.querySelector('.panel')).animationName"
    assert in_assistant(browser_page, animation) == "gov-assistant-open"
    assert panel and panel["width"] == pytest.approx(420, abs=1)
    # Elder mode inside the widget asks the host page for a larger panel.
    wait_for_question_focus(frame)
    browser_page.keyboard.press("Alt+Shift+KeyE")
    browser_page.wait_for_function(
        "() => document.querySelector('[data-gov-assistant]').shadowRoot"
        ".querySelector('.panel').classList.contains('large')"
    )
    assert browser_page.locator(".panel").bounding_box()["width"] == pytest.approx(600, abs=1)  # type: ignore[index]
    frame.evaluate("portalAccessibility.reset()")
    browser_page.context.close()

    top = sites.host.add(
        "/top", page(script_tag(sites.assistant, position="top-right", offset_y="100px"))
    )
    still = open_host(browser, top, reduced_motion="reduce")
    still.locator("button.launcher").click()
    box = still.locator("button.launcher").bounding_box()
    assert box and box["y"] == pytest.approx(100, abs=1)
    assert box["x"] + box["width"] == pytest.approx(1280 - 24, abs=1)
    assert in_assistant(still, animation) == "none"  # prefers-reduced-motion
    # Without data-lang the launcher speaks the host page's language.
    assert still.get_by_role("button", name=locales.text("widget.open", "zh-CN")).count() == 1
    still.context.close()


def test_a_host_page_with_a_strict_content_security_policy_still_shows_it(sites, browser):
    """Sites that allow no inline style, and only the assistant's scripts and frames."""
    policy = (
        f"default-src 'self'; script-src {sites.assistant}; frame-src {sites.assistant}; "
        "style-src 'self'"
    )
    url = sites.host.add(
        "/strict",
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        "<title>严格的政府网站</title></head><body><main><h1>严格的政府网站</h1></main>"
        f"{script_tag(sites.assistant, position='bottom-left', offset_x='40px')}</body></html>",
    )
    browser_page = open_host(browser, url)
    launcher = browser_page.locator("button.launcher")
    style = launcher.evaluate("b => [getComputedStyle(b).backgroundColor, b.offsetHeight]")
    assert style == ["rgb(11, 87, 208)", 60]
    assert launcher.bounding_box()["x"] == pytest.approx(40, abs=1)  # type: ignore[index]
    launcher.click()
    widget_frame(browser_page)
    browser_page.context.close()


# -- the widget page itself --------------------------------------------------------------------


@pytest.mark.parametrize(("locale", "width"), [("zh-CN", 420), ("ar", 420), ("en", 320)])
def test_the_widget_has_no_violations_in_every_mode(sites, browser, locale, width):
    browser_page = open_portal(
        browser, f"{sites.assistant}/widget?lang={locale}", width=width, locale=locale
    )
    problems = check_every_mode(browser_page, f"{locale}@{width} on load")
    ask_first_hot_question(browser_page)
    problems += check_every_mode(browser_page, f"{locale}@{width} after an answer")
    problems += [f"unlocalized {c}" for c in a11y.unlocalized_controls(browser_page, locale)]
    browser_page.context.close()
    assert problems == []


def test_the_widget_in_every_ui_language(sites, browser):
    context = browser.new_context(viewport={"width": 420, "height": 640})
    browser_page = context.new_page()
    problems = []
    for code in locales.available():
        browser_page.goto(f"{sites.assistant}/widget?lang={code}")
        browser_page.wait_for_selector("#shortcuts .chip", timeout=20_000)
        settle(browser_page)
        info = locales.info(code)
        html = browser_page.evaluate(
            "[document.documentElement.lang, document.documentElement.dir, "
            "document.documentElement.dataset.embed, document.title, "
            "document.querySelector('h1').innerText]"
        )
        expected = [code, info.direction, "widget", locales.text("portal.title", code)]
        if html[:4] != expected or html[4] != locales.text("portal.heading", code):
            problems.append(f"{code}: {html}")
        problems += [f"{code} axe {v}" for v in a11y.axe_violations(browser_page)]
        problems += [f"{code} {c}" for c in a11y.unlocalized_controls(browser_page, code)]
    context.close()
    assert problems == []


def test_the_widget_takes_title_agent_mode_and_contrast_from_its_url(sites, browser):
    title = "养老金咨询"
    widget = (
        f"{sites.assistant}/widget?lang=zh-CN&mode=elder&contrast=high&agent=pension"
        f"&title={quote(title)}"
    )
    url = sites.host.add(
        "/pension",
        page(
            f'<iframe src="{widget}" title="{title}" style="width: 420px; height: 640px"></iframe>'
        ),
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    browser_page = context.new_page()
    # A browser with a Chinese voice (headless Chromium has none; without one the gateway's
    # audio plays, tests/portal/test_read_aloud.py).
    browser_page.add_init_script(
        "window.spoken = []; speechSynthesis.speak = (u) => window.spoken.push(u.text);"
        "speechSynthesis.getVoices = () => [{lang: 'zh-CN', name: 'Chinese'}];"
    )
    browser_page.goto(url)
    frame = browser_page.frames[1]
    frame.wait_for_selector("#shortcuts .chip", timeout=20_000)
    frame.wait_for_function(f"document.querySelector('h1').innerText === {title!r}")
    assert frame.evaluate("document.title") == title
    assert frame.evaluate("document.documentElement.dataset.mode") == "elder"
    assert frame.evaluate("document.documentElement.dataset.contrast") == "high"
    # Typed questions go to the agent's route: the pension desk answers.
    ask(frame, "养老金怎么领取")
    answer = frame.locator("#transcript article.from-assistant").last
    assert PENSION_ANSWER in answer.inner_text()
    # Read aloud works in the widget as in the portal.
    answer.get_by_role("button", name=locales.text("portal.read_answer", "zh-CN")).click()
    speaker = locales.text("portal.assistant_said", "zh-CN")
    assert frame.evaluate("window.spoken") == [speaker, PENSION_ANSWER]
    # Another language keeps the title and the agent, not the display settings of the URL
    # (the resident may have changed them since).
    frame.evaluate("portalAccessibility.reset()")
    frame.click("details.languages summary")
    frame.get_by_role("link", name="Français").click()
    frame.wait_for_url("**/fr?**")
    frame.wait_for_selector("#shortcuts .chip", timeout=20_000)
    assert "agent=pension" in frame.url and "embed=widget" in frame.url
    assert "mode=" not in frame.url
    assert frame.evaluate("document.documentElement.dataset.mode") == "standard"
    frame.wait_for_function(f"document.querySelector('h1').innerText === {title!r}")
    # The same address opened in a window of its own shows no title of the link's choosing.
    browser_page.goto(widget)
    browser_page.wait_for_selector("#shortcuts .chip", timeout=20_000)
    assert "title=" not in browser_page.url and browser_page.title() == "政务服务智能客服"
    assert browser_page.locator("h1").inner_text() == locales.text("portal.heading", "zh-CN")
    # With an agent that is not an identifier, the FAQ answers as without one.
    browser_page.goto(f"{sites.assistant}/widget?lang=zh-CN&agent=..%2Fpension")
    browser_page.wait_for_selector("#shortcuts .chip", timeout=20_000)
    ask(browser_page, "居住证怎么办理")
    answer = browser_page.locator("#transcript article.from-assistant").last
    assert "居住" in answer.inner_text() and PENSION_ANSWER not in answer.inner_text()
    context.close()


def ask(browser_page: Page | Frame, question: str) -> None:
    browser_page.fill("#question textarea", question)
    browser_page.press("#question textarea", "Enter")
    browser_page.wait_for_selector(
        "#transcript[data-state=done] article.from-assistant", timeout=20_000
    )
