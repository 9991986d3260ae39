"""The portal's guard in front of Gradio (portal/guard.py): Gradio's file routes closed, its
errors in the resident's language, forwarded hosts from untrusted clients dropped; against a
small app answering as Gradio does (its ``{"detail"}`` errors), and against the real portal
(tests/portal/test_portal_routes.py)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from portal.guard import PortalGuard

pytestmark = pytest.mark.anyio


async def forbidden(request: Request) -> JSONResponse:
    return JSONResponse({"detail": "File not allowed"}, status_code=403)


async def host(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.headers.get("x-forwarded-host", ""))


async def ours(request: Request) -> JSONResponse:
    return JSONResponse({"error": {"code": "not_found", "message": "x"}}, status_code=404)


def guarded(make_settings, client: str = "203.0.113.9", **environ: str) -> httpx.AsyncClient:
    # Routing as Gradio's (FastAPI's): {"detail"} for an unknown path, a wrong method (with
    # Allow) and a refusal.
    inner = FastAPI(
        routes=[
            Route("/forbidden", forbidden),
            Route("/host", host),
            Route("/api/v1/x", ours),
            Route("/gradio_api/upload", host, methods=["POST"]),
        ]
    )
    app = PortalGuard(inner, settings=make_settings(**environ))
    transport = httpx.ASGITransport(app=app, client=(client, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://portal")


async def test_gradio_errors_become_the_gateways_in_the_residents_language(make_settings):
    async with guarded(make_settings) as client:
        missing = await client.get("/nowhere", headers={"Accept-Language": "en"})
        method = await client.put("/host", params={"lang": "fr"})
        refused = await client.get("/forbidden", headers={"Accept-Language": "zh-CN"})
        already = await client.get("/api/v1/x")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"code": "not_found", "message": "This address does not exist."}
    }
    assert method.status_code == 405 and set(method.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert method.json()["error"]["message"] == "Ce type de requête n’est pas pris en charge ici."
    assert refused.status_code == 403
    assert refused.json() == {"error": {"code": "forbidden", "message": "您无权访问这个地址。"}}
    assert already.json() == {"error": {"code": "not_found", "message": "x"}}  # left alone


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/upload",
        "/gradio_api/upload_progress",
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file/tmp/x.html",
        "/gradio_api/proxy=https://evil.example/",
        "/gradio_api/process_recording",
        "/gradio_api/stream/abc/close",
    ],
)
async def test_gradios_file_routes_are_closed(make_settings, path):
    async with guarded(make_settings) as client:
        response = await client.post(path, files={"files": ("x.html", b"<script>1</script>")})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_a_forwarded_host_counts_only_from_a_trusted_proxy(make_settings):
    headers = {"X-Forwarded-Host": "evil.example"}
    async with guarded(make_settings) as client:
        untrusted = await client.get("/host", headers=headers)
    async with guarded(
        make_settings, client="10.0.0.2", GATEWAY_LIMITS__TRUSTED_PROXIES='["10.0.0.0/8"]'
    ) as client:
        proxied = await client.get("/host", headers=headers)
    assert untrusted.text == "" and proxied.text == "evil.example"
