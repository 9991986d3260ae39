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


def test_the_gateway_command_serves_the_api_alone(tmp_path):
    from tests.processes import free_port, running, script

    port = free_port()
    env = {"GATEWAY_STATE__DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    with running([script("gateway"), "--port", str(port)], port, env) as url:
        reply = httpx.post(url + "/api/v1/chat", json={"message": "社保卡丢了怎么办"}).json()
        assert reply["found"] and reply["backend"] == "faq"
        assert httpx.get(url + "/").status_code == 404  # no portal here
