"""The real ``portal`` command, asked over HTTP and through a real browser."""

import re

import httpx
import pytest
from playwright.sync_api import expect

import locales
from tests.portal.conftest import run_portal

pytestmark = pytest.mark.slow


def test_the_portal_command_serves_the_page_and_answers_over_http(portal_url):
    page = httpx.get(portal_url + "/")
    assert page.status_code == 200 and "<html" in page.text
    reply = httpx.post(portal_url + "/api/v1/chat", json={"message": "居住证怎么办理"}).json()
    assert reply["found"] and reply["citations"]


def test_a_resident_asks_in_the_browser_and_sees_the_answer_and_its_source(portal_url, browser):
    page = browser.new_page(locale="zh-CN")
    page.goto(portal_url + "/?lang=zh-CN")
    question = page.get_by_label("您的问题")
    question.fill("居住证怎么办理")
    page.get_by_role("button", name="发送").click()
    transcript = page.locator("#transcript")
    link = transcript.get_by_role("link", name="（示例）")
    link.first.wait_for(timeout=20_000)
    assert link.first.get_attribute("href").startswith("https://zwfw.example.org/")
    assert "居住" in transcript.inner_text()
    page.close()


def test_the_gateway_command_serves_the_api_alone(tmp_path):
    from tests.processes import free_port, running, script

    port = free_port()
    env = {"GATEWAY_STATE__DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    with running([script("gateway"), "--port", str(port)], port, env) as url:
        reply = httpx.post(url + "/api/v1/chat", json={"message": "社保卡丢了怎么办"}).json()
        assert reply["found"] and reply["backend"] == "faq"
        assert httpx.get(url + "/").status_code == 404  # no portal here


def test_a_misspelt_question_shows_did_you_mean_and_can_be_asked_as_typed(portal_url, browser):
    page = browser.new_page(locale="zh-CN")
    page.goto(portal_url + "/?lang=zh-CN")
    page.get_by_label("您的问题").fill("居住正怎么办理")
    page.get_by_role("button", name="发送").click()
    transcript = page.locator("#transcript")
    as_typed = locales.text("portal.ask_as_typed", "zh-CN", question="\x00")
    # Playwright's accessible name puts a space around the resident's words (an element of
    # their own, for their language); Chromium's does not.
    before, after = (re.escape(part) for part in as_typed.split("\x00"))
    name = re.compile(rf"^{before}\s?{re.escape('居住正怎么办理')}{after}$")
    chip = transcript.get_by_role("button", name=name)
    chip.wait_for(timeout=20_000)
    understood = locales.text("portal.did_you_mean", "zh-CN", question="居住证怎么办理")
    assert understood in transcript.inner_text()
    assert transcript.get_by_role("link", name="（示例）").count() >= 1
    chip.click()
    # Asked again exactly as typed: the gateway does not correct it, so no chip this time.
    page.wait_for_function(
        "document.querySelectorAll('#transcript article.from-assistant').length === 2"
        " && document.querySelector('#transcript').dataset.state === 'done'",
        timeout=20_000,
    )
    answers = transcript.locator("article.from-assistant")
    assert answers.nth(1).locator(".did-you-mean").count() == 0
    assert "居住正怎么办理" in transcript.locator("article.from-resident").nth(1).inner_text()
    page.close()


@pytest.fixture(scope="module")
def limited_portal_url(tmp_path_factory):
    yield from run_portal(tmp_path_factory, GATEWAY_LIMITS__PER_IP="2/minute")


def test_residents_behind_a_proxy_are_limited_each_by_their_own_address(
    limited_portal_url, browser
):
    """The portal names each resident's address to the gateway: a busy resident is told to
    wait, with the question kept, while another one behind the same proxy is still answered."""

    def resident(address: str):
        # As nginx in front of the portal would send it (127.0.0.1 is a trusted proxy).
        context = browser.new_context(
            locale="zh-CN", extra_http_headers={"X-Forwarded-For": address}
        )
        page = context.new_page()
        page.goto(limited_portal_url + "/?lang=zh-CN")
        return context, page

    def ask(page, question: str, answers: int) -> None:
        page.get_by_label("您的问题").fill(question)
        page.get_by_role("button", name="发送").click()
        page.wait_for_function(
            f"document.querySelectorAll('#transcript article.from-assistant').length === {answers}"
            " && document.querySelector('#transcript').dataset.state === 'done'",
            timeout=20_000,
        )

    busy_context, busy = resident("198.51.100.1")
    ask(busy, "居住证怎么办理", 1)
    ask(busy, "社保卡丢了怎么办", 2)
    ask(busy, "护照怎么办理", 3)
    refused = busy.locator("#transcript article.from-assistant").nth(2).inner_text()
    wait = re.escape(locales.text("error.rate_limited", "zh-CN", seconds=0)).replace("0", r"\d+")
    assert re.search(wait, refused)
    # The question goes back into the box once the answer is shown (a step of its own).
    expect(busy.get_by_label("您的问题")).to_have_value("护照怎么办理", timeout=10_000)
    busy_context.close()

    other_context, other = resident("198.51.100.2")
    ask(other, "护照怎么办理", 1)
    answer = other.locator("#transcript article.from-assistant").first
    assert answer.get_by_role("link", name="（示例）").count() >= 1
    other_context.close()
