"""An OpenAI-compatible chat server (as vLLM, DeepSeek or Ollama serve it).

``POST /v1/chat/completions``; streamed: a first chunk with the role, ``reasoning_content``
chunks when ``extra["reasoning"]`` is set (as DeepSeek's reasoner sends), content chunks, a
chunk with ``finish_reason``, a usage chunk whose ``choices`` is ``[]`` (OpenAI) or ``null``
(``extra["usage_choices"] = None``, as some vLLM versions), then ``data: [DONE]``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request

from tests.servers import Behaviour, app_with, paced, received, refusal, sse


def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> str:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    payload = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "test-model",
        "choices": choices,
        **extra,
    }
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def create_app(behaviour: Behaviour) -> FastAPI:
    app = app_with(behaviour)

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Any:
        body = await received(behaviour, request)
        refused = refusal(behaviour, request, bool(body.get("stream")))
        if refused is not None:
            return refused
        if not body.get("stream"):
            return {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": behaviour.answer,
                            "reasoning_content": behaviour.extra.get("reasoning"),
                        },
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
            }
        return sse(frames(behaviour))

    return app


async def frames(behaviour: Behaviour) -> AsyncIterator[str]:
    yield chunk({"role": "assistant", "content": ""})
    if behaviour.extra.get("reasoning"):
        yield chunk({"reasoning_content": behaviour.extra["reasoning"], "content": None})
    async for _, piece in paced(behaviour):
        if behaviour.malformed:
            yield 'data: {"choices": [{"delta": {"content": "半\n\n'
            continue
        yield chunk({"content": piece})
    yield chunk({}, "stop")
    usage = {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18}
    if behaviour.extra.get("usage_choices", []) is None:
        payload = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "choices": None}
        yield f"data: {json.dumps({**payload, 'usage': usage})}\n\n"
    else:
        yield chunk(None, usage=usage)
    if not behaviour.extra.get("no_done"):
        yield "data: [DONE]\n\n"
