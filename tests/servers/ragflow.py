"""A RAGFlow chat assistant's OpenAI-compatible endpoint with references:
``POST /api/v1/chats_openai/{chat_id}/chat/completions`` and ``extra_body.reference``.

Lines are ``data:{…}`` without a space, as RAGFlow writes them. The answer cites passages inline
as ``[ID:n]``; the final chunk (``finish_reason: "stop"``) carries ``delta.reference`` with the
``chunks`` keyed by those numbers, then ``data:[DONE]``. A refusal comes as HTTP 200 with a JSON
``{code, message}`` body, as RAGFlow sends it (``extra["code"]``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request

from tests.servers import Behaviour, app_with, paced, received, refusal, sse

REFERENCE = {
    "chunks": {
        "1": {
            "id": "4b8935ac0a22deb1",
            "content": "居住证有效期满需继续居住的，应在期满前30日内申请签注。",
            "document_id": "d2",
            "document_name": "居住证签注规定.pdf",
            "dataset_id": "ds",
            "image_id": "",
            "positions": [[1, 2, 3, 4, 5]],
            "url": None,
            "similarity": 0.5697,
            "vector_similarity": 0.73,
            "term_similarity": 0.5,
            "doc_type": "",
        },
        "0": {
            "id": "1a2b",
            "content": "申领居住证，应当向居住地公安派出所提交身份证、照片和居住证明。",
            "document_id": "d1",
            "document_name": "居住证暂行条例.pdf",
            "dataset_id": "ds",
            "url": "https://zwfw.example.org/law/jzz",
            "similarity": 0.8123,
        },
    },
    "doc_aggs": {
        "居住证暂行条例.pdf": {"doc_name": "居住证暂行条例.pdf", "doc_id": "d1", "count": 1}
    },
}

ANSWER = "申领居住证需要身份证、照片和居住证明 [ID:0]。到期前30日内签注##1$$。"


def create_app(behaviour: Behaviour, chat_id: str = "chat-1") -> FastAPI:
    app = app_with(behaviour)

    @app.post(f"/api/v1/chats_openai/{chat_id}/chat/completions")
    async def completions(request: Request) -> Any:
        body = await received(behaviour, request)
        refused = refusal(behaviour, request, bool(body.get("stream")))
        if refused is not None:
            return refused
        if "code" in behaviour.extra:
            return {
                "code": behaviour.extra["code"],
                "message": "The last content of this conversation is not from user.",
            }
        reference = REFERENCE if (body.get("extra_body") or {}).get("reference") else None
        if not body.get("stream"):
            message = {"role": "assistant", "content": behaviour.answer}
            if reference:
                message["reference"] = reference
            return {
                "id": "chatcmpl-r",
                "object": "chat.completion",
                "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
            }
        return sse(frames(behaviour, reference))

    return app


def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> str:
    payload = {
        "id": "chatcmpl-r",
        "choices": [
            {
                "delta": {
                    "role": "assistant",
                    "function_call": None,
                    "tool_calls": None,
                    "reasoning_content": None,
                    **delta,
                },
                "finish_reason": finish,
                "index": 0,
                "logprobs": None,
            }
        ],
        "created": 1755084508,
        "model": "model",
        "object": "chat.completion.chunk",
        "system_fingerprint": "",
        "usage": usage,
    }
    return f"data:{json.dumps(payload, ensure_ascii=False)}\n\n"


async def frames(behaviour: Behaviour, reference: Any) -> AsyncIterator[str]:
    async for _, piece in paced(behaviour):
        yield chunk({"content": piece})
    final: dict[str, Any] = {"content": None, "final_content": behaviour.answer}
    if reference:
        final["reference"] = reference
    yield chunk(final, "stop", {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14})
    yield "data:[DONE]\n\n"
