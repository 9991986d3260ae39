"""A legacy FAQ service of the kind the ``http`` back end is configured for.

``POST /api/ask`` ``{"q": …, "channel": …}`` (or ``GET /api/ask?q=…``) →
``{"code": 0, "data": {"hit": bool, "reply": …, "docs": [{"name", "link", "rank"}]}}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from tests.servers import Behaviour, app_with, received, refusal


def create_app(behaviour: Behaviour) -> FastAPI:
    app = app_with(behaviour)

    def reply(question: str) -> dict[str, Any]:
        hit = "居住证" in question
        return {
            "code": 0,
            "data": {
                "hit": hit,
                "reply": behaviour.answer if hit else "",
                "docs": [
                    {"name": "居住证办理指南", "link": "https://zwfw.example.org/jzz", "rank": 0.9},
                    {"name": "内部文件", "link": "file:///etc/passwd", "rank": 0.2},
                ]
                if hit
                else [],
            },
        }

    @app.post("/api/ask")
    async def ask(request: Request) -> Any:
        body = await received(behaviour, request)
        return refusal(behaviour, request) or reply(body.get("q", ""))

    @app.get("/api/ask")
    async def ask_get(request: Request, q: str = "") -> Any:
        await received(behaviour, request)
        return refusal(behaviour, request) or reply(q)

    return app
