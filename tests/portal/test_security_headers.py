"""The portal page with the security headers on: it loads and answers in a real Chromium, and
the browser reports no Content-Security-Policy violation."""

import httpx
import pytest

from tests.browser import policy_reports

pytestmark = pytest.mark.slow


def test_the_page_carries_the_security_headers(portal_url):
    page = httpx.get(portal_url + "/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    # Framed by this site only, unless [security] frame_ancestors names others.
    assert policy.endswith("frame-ancestors 'self'")
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    api = httpx.post(portal_url + "/api/v1/chat", json={"message": "居住证怎么办理"})
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_the_portal_works_under_its_policy_in_chromium(portal_url, browser):
    page = browser.new_page(locale="zh-CN")
    violations = policy_reports(page)
    page.goto(portal_url + "/?lang=zh-CN")
    page.evaluate(
        """() => document.addEventListener('securitypolicyviolation',
             e => console.error('Refused to ' + e.violatedDirective + ' ' + e.blockedURI))"""
    )
    question = page.get_by_label("您的问题")
    question.fill("居住证怎么办理")
    page.get_by_role("button", name="发送").click()
    transcript = page.locator("#transcript")
    transcript.get_by_role("link", name="（示例）").first.wait_for(timeout=20_000)
    assert "居住" in transcript.inner_text()
    assert violations == []
    page.close()
