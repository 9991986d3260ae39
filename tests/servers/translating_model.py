"""An OpenAI-compatible ``POST /v1/chat/completions`` server (non-streaming replies and the
documented error body), whose "model" is a translator: it reads the source and target
languages from the system prompt and translates the user message word for word."""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.servers import phrasebook

CODES = {"Simplified Chinese": "zh", "English": "en", "Korean": "ko"}
_EMPHASIS = re.compile(r"(\*\*.+?\*\*)")
_LANGUAGES = re.compile(r"from (?P<source>[A-Za-z ]+?) into (?P<target>[A-Za-z ]+?)\.")


def create_app(api_key: str | None = None, fail: bool = False) -> Starlette:
    requests: list[dict[str, Any]] = []

    def error(status: int, message: str, kind: str) -> JSONResponse:
        return JSONResponse(
            {"error": {"message": message, "type": kind, "param": None, "code": None}},
            status_code=status,
        )

    async def completions(request: Request) -> JSONResponse:
        body = await request.json()
        requests.append({"body": body, "authorization": request.headers.get("authorization")})
        if api_key is not None and request.headers.get("authorization") != f"Bearer {api_key}":
            return error(401, "Incorrect API key provided.", "invalid_request_error")
        if fail:
            return error(
                500, "The server had an error while processing your request.", "server_error"
            )
        messages = body.get("messages") or []
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        found = _LANGUAGES.search(system)
        if not found:
            content = "Sure! Here is some help with your question."  # an untamed chat model
        else:
            source, target = CODES[found["source"]], CODES[found["target"]]
            content = "\n".join(
                _translate_markdown(line, source, target) for line in user.split("\n")
            )
        return JSONResponse(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", ""),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }
        )

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    app.state.requests = requests
    return app


def _translate_markdown(line: str, source: str, target: str) -> str:
    """Like a model that keeps Markdown: emphasis stays around the words it marked."""
    parts = []
    for part in _EMPHASIS.split(line):
        if not part.strip():
            continue
        if _EMPHASIS.fullmatch(part):
            parts.append("**" + phrasebook.translate(part[2:-2], source, target) + "**")
        else:
            parts.append(phrasebook.translate(part, source, target))
    return (" " if target != "zh" else "").join(parts)
