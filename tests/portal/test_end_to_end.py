"""The real ``portal`` command, asked over HTTP and through a real browser."""

import httpx
import pytest

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
