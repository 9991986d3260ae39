"""A LibreTranslate server as its API documentation describes it: ``GET /languages``,
``POST /translate`` (``q`` a string or a list, ``source``, ``target``, ``format``,
``api_key``) and ``POST /detect``, with its JSON error bodies ``{"error": "…"}``."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.servers import phrasebook

#: Newer servers name Simplified Chinese zh-Hans; the gateway must cope.
CODES = {"zh": "zh-Hans", "en": "en", "ko": "ko"}
NAMES = {"zh-Hans": "Chinese (Simplified)", "en": "English", "ko": "Korean"}


def create_app(api_keys: set[str] | None = None, fail: bool = False) -> Starlette:
    gateway_code = {server: gateway for gateway, server in CODES.items()}
    pairs = {(CODES[a], CODES[b]) for a, b in phrasebook.PHRASES if a in CODES and b in CODES}
    requests: list[dict[str, Any]] = []

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def languages(request: Request) -> JSONResponse:
        return JSONResponse(
            [
                {
                    "code": code,
                    "name": name,
                    "targets": sorted(b for a, b in pairs if a == code),
                }
                for code, name in NAMES.items()
            ]
        )

    async def translate(request: Request) -> JSONResponse:
        body = (
            await request.json()
            if request.headers.get("content-type", "").startswith("application/json")
            else dict(await request.form())
        )
        requests.append(body)
        if api_keys is not None and body.get("api_key") not in api_keys:
            return error(403, "Invalid API key")
        if fail:
            return error(500, "Cannot translate text: model crashed")
        q, source, target = body.get("q"), body.get("source"), body.get("target")
        for name, value in (("q", q), ("source", source), ("target", target)):
            if not value:
                return error(400, f"Invalid request: missing {name} parameter")
        if body.get("format", "text") not in ("text", "html"):
            return error(400, f"{body['format']} format is not supported")
        if (source, target) not in pairs:
            return error(400, f"{target} is not available as a target language from {source}")
        texts = q if isinstance(q, list) else [q]
        translated = [
            phrasebook.translate(str(text), gateway_code[source], gateway_code[target])
            for text in texts
        ]
        return JSONResponse(
            {"translatedText": translated if isinstance(q, list) else translated[0]}
        )

    async def detect(request: Request) -> JSONResponse:
        body = await request.json()
        text = str(body.get("q", ""))
        language = "zh-Hans" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en"
        return JSONResponse([{"confidence": 90.0, "language": language}])

    app = Starlette(
        routes=[
            Route("/languages", languages, methods=["GET"]),
            Route("/translate", translate, methods=["POST"]),
            Route("/detect", detect, methods=["POST"]),
        ]
    )
    app.state.requests = requests
    return app
