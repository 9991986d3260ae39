"""The real portal (the ``portal`` command) as an outside probe met it (issue 18): no upload,
no file served from its origin, its errors in the resident's language, security headers on
its redirects, and a page root that no client's Host header can change."""

from __future__ import annotations

import httpx
import pytest

from tests.portal.conftest import run_portal

pytestmark = pytest.mark.slow

PUBLIC = "https://zwfw.example.gov.cn/assistant"


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory):
    """The portal on the embedded defaults, with its public address configured."""
    yield from run_portal(tmp_path_factory, timeout=240, GATEWAY_PORTAL__PUBLIC_URL=PUBLIC)


def test_nothing_can_be_uploaded_or_served_back(portal_url):
    upload = httpx.post(
        portal_url + "/gradio_api/upload",
        files={"files": ("page.html", b"<script>alert(1)</script>" * 1000, "text/html")},
        headers={"Accept-Language": "en"},
    )
    assert upload.status_code == 404
    assert upload.json() == {
        "error": {"code": "not_found", "message": "This address does not exist."}
    }
    served = httpx.get(portal_url + "/gradio_api/file=/etc/hostname")
    assert served.status_code == 404 and served.json()["error"]["code"] == "not_found"


def test_voice_input_still_reaches_the_gateway(portal_url):
    # The 语音 button posts its recording here, not to Gradio's upload: with no transcriber
    # configured (the defaults) the gateway says voice input is unavailable, in JSON.
    reply = httpx.post(
        portal_url + "/voice/transcription?lang=en",
        content=b"RIFF\x24\x00\x00\x00WAVEfmt ",
        headers={"Content-Type": "audio/wav"},
    )
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json()["error"]["code"] in {"transcription_unavailable", "empty_audio"}


def test_errors_are_in_the_residents_language(portal_url):
    missing = httpx.get(portal_url + "/no/such/page", headers={"Accept-Language": "en"})
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "This address does not exist.",
    }
    wrong = httpx.put(portal_url + "/config?lang=zh-CN")
    assert wrong.status_code == 405 and "GET" in wrong.headers["allow"]
    assert wrong.json()["error"] == {
        "code": "method_not_allowed",
        "message": "不支持这种请求方式。",
    }
    api = httpx.put(portal_url + "/api/v1/chat", headers={"Accept-Language": "en"})
    assert api.status_code == 405 and api.headers["allow"] == "POST"


def test_the_widget_redirect_carries_the_security_headers(portal_url):
    redirect = httpx.get(portal_url + "/widget?lang=en", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["x-content-type-options"] == "nosniff"
    assert "default-src" in redirect.headers["content-security-policy"]
    assert redirect.headers["referrer-policy"]


def test_a_clients_host_never_becomes_the_page_root(portal_url):
    # With [portal] public_url set Gradio reads no header for its root. (Without it, a
    # forwarded host from a client that is no trusted proxy is dropped: tests/portal/
    # test_guard.py; this client, on loopback, would be a trusted one.)
    spoofed = {"X-Forwarded-Host": "evil.example", "Host": "evil.example"}
    configured = httpx.get(portal_url + "/config", headers=spoofed).json()
    assert configured["root"] == PUBLIC
    page = httpx.get(portal_url + "/", headers=spoofed, follow_redirects=True)
    assert "evil.example" not in page.text
