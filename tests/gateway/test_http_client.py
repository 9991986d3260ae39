"""The gateway's HTTP client keeps no cookies: a back end's cookie never rides along with
another resident's question."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request, Response

from gateway.config import HttpConfig
from gateway.http import create_client
from tests.servers import serve

pytestmark = pytest.mark.anyio


def cookie_setting_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ask")
    async def ask(request: Request) -> Response:
        reply = Response(request.headers.get("cookie", "no cookie"))
        reply.set_cookie("resident", "first-residents-session")
        return reply

    return app


async def test_cookies_a_back_end_sets_are_not_sent_back() -> None:
    with serve(cookie_setting_app()) as url:
        for transport in ("aiohttp", "httpx"):
            async with create_client(HttpConfig(transport=transport), base_url=url) as client:
                first = await client.get("ask")
                assert "first-residents-session" in first.headers["set-cookie"]
                second = await client.get("ask")
                assert second.text == "no cookie", transport
                assert not client.cookies
                with pytest.raises(TypeError):
                    client.cookies.set("resident", "x")
