"""The operators' page in headless Chromium: axe-core finds no WCAG 2.2 A/AA violation signed
out or signed in (zh-CN and English), an operator works it with the keyboard alone, and sees
unanswered questions grouped by meaning and the knowledge base's sources."""

from __future__ import annotations

import json

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe

import locales
from tests.browser import chromium
from tests.gateway.knowledge_copy import sample_copy
from tests.processes import free_port, running, script

pytestmark = pytest.mark.slow

TOKEN = "operator-token-for-the-page"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG},
    "rules": {"target-size": {"enabled": True}},
    "resultTypes": ["violations"],
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """The gateway's URL and its knowledge base's folder (a copy of the sample)."""
    folder = tmp_path_factory.mktemp("admin-page")
    port = free_port()
    env = {
        "GATEWAY_KNOWLEDGE__PATHS": json.dumps([str(sample_copy(folder))]),
        "GATEWAY_STATE__DATABASE_URL": f"sqlite:///{folder / 'state.db'}",
        "ASSISTANT_ADMIN_TOKEN": TOKEN,
        "TEST_LOG_DIR": str(folder),
    }
    with running([script("gateway"), "--port", str(port)], port, env, timeout=180) as url:
        # A generous timeout: the first question loads the embedding model on a busy machine.
        with httpx.Client(base_url=url, timeout=60) as client:
            # Two ways of asking one gap first, so that the cat's (asked last) leads the list.
            dogs = ["狗狗打狂犬疫苗去哪里", "宠物狗在哪里可以打疫苗"]
            cats = ["我家的猫不吃饭怎么办"] * 2
            for question in [*dogs, *cats, "火星签证怎么办"]:
                client.post("/api/v1/chat", json={"message": question})
            answer = client.post("/api/v1/chat", json={"message": "居住证怎么办理"}).json()
            for helpful in (True, False):
                client.post(
                    "/api/v1/feedback",
                    json={"message_id": answer["message_id"], "helpful": helpful, "comment": "…"},
                )
        yield url, folder / "kb"


@pytest.fixture(scope="module")
def browser():
    # Per module: Playwright's synchronous API keeps an event loop running in this thread
    # while the browser is open, which would break the async tests of later modules.
    with chromium() as browser:
        yield browser


def violations(page) -> list[str]:
    result = Axe().run(page, options=AXE_OPTIONS).response
    return [
        f"{violation['id']}: {node['target']} {node['failureSummary']}"
        for violation in result["violations"]
        for node in violation["nodes"]
    ]


def sign_in(page, token: str = TOKEN) -> None:
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the token field
    page.keyboard.type(token)
    page.keyboard.press("Enter")


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_admin_page_has_no_accessibility_violations(browser, gateway, locale):
    gateway_url, _ = gateway
    context = browser.new_context(locale=locale, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{gateway_url}/admin")
    assert page.locator("html").get_attribute("lang") == locale
    assert page.title() == locales.text("admin.title", locale)
    assert violations(page) == []

    sign_in(page)
    page.wait_for_selector("#unanswered-rows tr")
    page.wait_for_selector("#feedback-rows tr")
    page.wait_for_selector("#hot-shown li")
    page.wait_for_selector("#sources-rows tr")
    page.locator("#unanswered-rows details").first.evaluate("d => d.open = true")
    assert page.evaluate("document.activeElement.id") == "unanswered-heading"
    assert violations(page) == []
    assert problems == [], "no script or Content-Security-Policy errors"
    context.close()


def test_an_operator_works_the_page_with_the_keyboard(browser, gateway):
    gateway_url, _ = gateway
    context = browser.new_context(locale="en", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{gateway_url}/admin")

    sign_in(page, "not-the-token")
    status = page.locator("#status")
    status.filter(has_text="Could not sign in").wait_for()
    assert page.locator("#workspace").is_hidden()

    page.locator("#token").focus()
    page.keyboard.type(TOKEN)
    page.keyboard.press("Enter")
    first_row = page.locator("#unanswered-rows tr").first
    first_row.wait_for()
    assert first_row.locator("td").nth(0).inner_text() == "我家的猫不吃饭怎么办"
    assert first_row.locator("td").nth(1).inner_text() == "2"
    assert "3 in all" in page.locator("#unanswered-caption").inner_text()
    assert "1 helpful, 1 not helpful" in page.locator("#feedback-summary").inner_text()
    assert "177 entries" in page.locator("#knowledge-summary").inner_text()

    # Tab to the first row's "Mark resolved" and press Enter.
    button = first_row.get_by_role("button", name="Mark resolved")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Mark resolved":
            break
    assert button.evaluate("b => b === document.activeElement")
    page.keyboard.press("Enter")
    status.filter(has_text="is now: Resolved").wait_for()
    page.wait_for_function(
        "document.querySelectorAll('#unanswered-rows tr').length === 2"
    )  # the open list keeps the other groups only
    assert page.evaluate("document.activeElement.id") == "unanswered-caption"

    # Linking needs an entry id; an unknown one is refused with the server's message.
    page.locator("#unanswered-rows input").first.fill("no-such-entry")
    page.get_by_role("button", name="Link").first.click()
    status.filter(has_text="no-such-entry").wait_for()

    # The export follows the filter: all statuses.
    page.locator("#unanswered-status").select_option("")
    with page.expect_download() as download:
        page.locator("#unanswered-export").focus()
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "unanswered.csv"
    content = download.value.path().read_text(encoding="utf-8-sig")
    assert "我家的猫不吃饭怎么办" in content and "resolved" in content

    page.locator("#knowledge-reload").focus()
    page.keyboard.press("Enter")
    status.filter(has_text="Knowledge base reloaded: 177 entries").wait_for()
    assert page.evaluate("document.activeElement.id") == "knowledge-reload"

    page.get_by_role("button", name="Sign out").click()
    assert page.locator("#signin").is_visible() and page.locator("#workspace").is_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    context.close()


def test_one_gap_asked_two_ways_is_one_row_and_the_sources_follow_a_reload(browser, gateway):
    # Last in this module: it changes the knowledge base the others count entries of.
    gateway_url, kb = gateway
    context = browser.new_context(locale="en")
    page = context.new_page()
    page.goto(f"{gateway_url}/admin")
    sign_in(page)
    page.locator("#unanswered-status").select_option("")
    page.locator("#unanswered-filter button[type=submit]").click()
    dogs = page.locator("#unanswered-rows tr", has_text="疫苗")
    dogs.wait_for()
    cells = dogs.locator("td")
    # Each asked once: the latest asked leads.
    assert cells.nth(0).locator(".representative").inner_text() == "宠物狗在哪里可以打疫苗"
    assert cells.nth(1).inner_text() == "2" and cells.nth(2).inner_text() == "zh"
    summary = dogs.locator("summary")
    assert summary.inner_text() == "Asked 2 ways"
    assert dogs.locator("ul.members").is_hidden()
    summary.focus()
    page.keyboard.press("Enter")
    members = dogs.locator("ul.members li")
    assert members.count() == 2 and "狗狗打狂犬疫苗去哪里" in members.nth(1).inner_text()
    grouping = page.locator("#unanswered-grouping").inner_text()
    assert "alike in meaning" in grouping and "0.88" in grouping

    caption = page.locator("#sources-caption")
    caption.filter(has_text="177 entries").wait_for()
    assert "0 problems" in caption.inner_text()
    rows = page.locator("#sources-rows tr")
    assert rows.count() == len(page.locator("#sources-rows td.file").all_inner_texts()) > 1
    assert rows.first.locator("td").nth(1).inner_text() == "entries"
    # A reload with no file changed rebuilds nothing, and says so.
    page.locator("#knowledge-reload").click()
    page.locator("#sources-reload").filter(has_text="0 file(s) had changed").wait_for()
    assert page.locator("#sources-rows tr").count() == rows.count()

    # A FAQ sheet with a row lacking its answer: after a reload the table shows it and why.
    (kb / "faq.csv").write_text(
        "问题,答案\n狗证怎么办,带身份证去派出所。\n猫证呢,\n", encoding="utf-8"
    )
    count = rows.count()
    page.locator("#knowledge-reload").click()
    page.locator("#sources-reload").filter(has_text="1 file(s) had changed").wait_for()
    assert "178 entries" in caption.inner_text() and "1 problems" in caption.inner_text()
    sheet = page.locator("#sources-rows tr", has_text="faq.csv")
    assert rows.count() == count + 1
    assert [sheet.locator("td").nth(n).inner_text() for n in (1, 2, 3)] == ["sheet", "1", "0"]
    assert "faq.csv:3" in sheet.locator("ul.problems li").inner_text()
    context.close()
