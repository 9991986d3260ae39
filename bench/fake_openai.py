"""A minimal, fast OpenAI-compatible back end for bench/overhead.py (aiohttp.web, one process).

    python bench/fake_openai.py PORT

``POST /v1/chat/completions`` answers a fixed Chinese sentence, whole or as Server-Sent Events
(six chunks, then ``data: [DONE]``), at once: what is measured is the proxy in front of it.
"""

from __future__ import annotations

import json
import sys
import time

from aiohttp import web

ANSWER = "办理居住证，请携带居民身份证和居住证明，到居住地派出所申请。"
PIECES = [ANSWER[i : i + 6] for i in range(0, len(ANSWER), 6)]


def completion(model: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": ANSWER},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 20, "completion_tokens": 20, "total_tokens": 40},
        },
        ensure_ascii=False,
    ).encode()


def chunk(model: str, delta: dict, finish: str | None = None) -> bytes:
    payload = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


async def completions(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    model = body.get("model", "m")
    if not body.get("stream"):
        return web.Response(body=completion(model), content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(chunk(model, {"role": "assistant", "content": ""}))
    for piece in PIECES:
        await response.write(chunk(model, {"content": piece}))
    await response.write(chunk(model, {}, "stop"))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def main() -> None:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
