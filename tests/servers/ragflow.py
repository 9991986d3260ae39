"""A RAGFlow chat assistant's OpenAI-compatible endpoint, as RAGFlow's own source defines it.

Follows (infiniflow/ragflow), per ``version``:
- ``"0.20"`` (tag v0.20.5) and ``"0.22"`` (v0.22.1): ``api/apps/sdk/session.py``
  ``chat_completion_openai_like`` — ``POST /api/v1/chats_openai/{chat_id}/chat/completions``;
  references asked with a **top-level** ``reference: true``; ``stream`` **defaults to true**;
  key check ``api/utils/api_utils.py`` ``token_required`` (HTTP 200, ``{code: 109, message:
  "Authentication error: API key is invalid!", data: false}``); ``validate_request("model",
  "messages")`` (code 101); ``get_error_data_result`` (code 102).
- ``"0.25"`` (v0.25.6): ``api/apps/restful_apis/openai_api.py`` — ``POST /api/v1/openai/{chat_id}/
  chat/completions`` (and the old path, forwarded by ``api/apps/backward_compat.py``);
  references asked with ``extra_body.reference``; ``stream`` defaults to true; a refused key is
  HTTP **401** ``{code: 401, message}`` (``api/apps/__init__.py``); and the stream's last content
  chunk **repeats the whole answer** (the ``final`` event re-emitted as content, RAGFlow issue
  #15286).
- ``"main"`` (the newest): the same file, ``stream`` **defaults to false**, the final answer
  no longer repeated.
- All: streamed lines are ``data:{json}`` without a space; a failure inside the stream is a
  content chunk ``"**ERROR**: …"`` followed by the normal end; the final chunk has
  ``finish_reason: "stop"``, ``usage`` and, with references, ``delta.reference`` — a **list**
  from ``chunks_format()`` (``rag/prompts/prompts.py`` ≤ 0.20, ``rag/prompts/generator.py``
  after) — and ``delta.final_content``; then ``data:[DONE]``. Unstreamed,
  ``choices[0].message.reference`` is that list. The list holds every retrieved chunk; the
  answer cites them by position as ``[ID:n]`` (models also write ``【ID:n】``, ``(ID:n)``,
  ``refN``, which ``api/db/services/dialog_service.py`` ``repair_bad_citation_formats``
  knows). Nothing retrieved and the assistant's ``empty_response`` set: that text is the
  answer (``main`` HTML-escapes it), the list empty.

Test knobs in ``Behaviour.extra``: ``fail`` (``"model"``), ``empty`` (nothing retrieved:
``EMPTY_RESPONSE``), ``reasoning`` (reasoning pieces before the answer).
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.servers import Behaviour, app_with, paced, received, sse

VERSIONS = ("0.20", "0.22", "0.25", "main")

CHUNKS = [
    {
        "id": "1a2b3c4d5e6f7081",
        "content": "申领居住证，应当向居住地公安派出所提交身份证、照片和居住证明。",
        "document_id": "d1",
        "document_name": "居住证暂行条例.pdf",
        "dataset_id": "ds",
        "image_id": "",
        "positions": [[1, 10, 200, 30, 60]],
        "url": "https://zwfw.example.org/law/jzz",
        "similarity": 0.8123,
        "vector_similarity": 0.9,
        "term_similarity": 0.6,
        "doc_type": "",
    },
    {
        "id": "4b8935ac0a22deb1",
        "content": "居住证有效期满需继续居住的，应在期满前30日内申请签注。",
        "document_id": "d2",
        "document_name": "居住证签注规定.pdf",
        "dataset_id": "ds",
        "image_id": "",
        "positions": [[2, 10, 200, 30, 60]],
        "url": None,
        "similarity": 0.5697,
        "vector_similarity": 0.73,
        "term_similarity": 0.5,
        "doc_type": "",
    },
    {
        "id": "9f9f9f9f9f9f9f9f",
        "content": "港澳台居民居住证申领办法另行规定。",
        "document_id": "d3",
        "document_name": "港澳台居民居住证申领发放办法.pdf",
        "dataset_id": "ds",
        "image_id": "",
        "positions": [],
        "url": None,
        "similarity": 0.31,
        "vector_similarity": 0.4,
        "term_similarity": 0.2,
        "doc_type": "",
    },
]
#: Cites the first two retrieved chunks, in the formats RAGFlow's models write.
ANSWER = "申领居住证需要身份证、照片和居住证明 [ID:0]。到期前30日内签注【ID:1】。"
EMPTY_RESPONSE = "抱歉，知识库中未找到您要的答案！<请拨打12345>"
REASONING = "用户问居住证办理，先看条例。"
MODEL_FAILURE = "**ERROR**: LLM(qwen-plus) Error code: 429 - Throttling.RateQuota"


def create_app(behaviour: Behaviour, chat_id: str = "chat-1", version: str = "main") -> FastAPI:
    if version not in VERSIONS:
        raise ValueError(f"not a RAGFlow version this server follows: {version}")
    app = app_with(behaviour)
    old = version in ("0.20", "0.22")

    def reply(payload: dict[str, Any], status: int = 200) -> JSONResponse:
        return JSONResponse(payload, status)

    def unauthorized(request: Request) -> JSONResponse | None:
        if behaviour.api_key is None:
            return None
        parts = (request.headers.get("authorization") or "").split()
        if old:
            if not parts:
                return reply(
                    {"code": 0, "message": "`Authorization` can't be empty", "data": False}
                )
            if len(parts) < 2:
                return reply(
                    {"code": 0, "message": "Please check your authorization format.", "data": False}
                )
            if parts[1] != behaviour.api_key:
                return reply(
                    {"code": 109, "message": "Authentication error: API key is invalid!"}
                    | {"data": False}
                )
            return None
        if len(parts) < 2 or parts[1] != behaviour.api_key:
            return reply({"code": 401, "message": "Unauthorized", "data": None}, 401)
        return None

    async def completions(request: Request) -> Any:
        body = await received(behaviour, request)
        refused = unauthorized(request)
        if refused is not None:
            return refused
        if behaviour.status != 200:
            return reply({"code": 100, "message": "Exception()", "data": None}, behaviour.status)
        missing = [name for name in ("model", "messages") if name not in body]
        if missing:
            message = f"required argument are missing: {','.join(missing)}; "
            return reply({"code": 101, "message": message, "data": None})
        messages = body["messages"]
        if not messages:
            return reply({"code": 102, "message": "You have to provide messages."})
        if messages[-1].get("role") != "user":
            return reply(
                {"code": 102, "message": "The last content of this conversation is not from user."}
            )
        if old:
            need_reference = bool(body.get("reference", False))
        else:
            need_reference = bool((body.get("extra_body") or {}).get("reference", False))
        if behaviour.extra.get("empty"):
            answer, chunks = EMPTY_RESPONSE, []
            if version == "main":
                answer = html.escape(answer)
        else:
            answer, chunks = behaviour.answer, CHUNKS
        reference = chunks if need_reference else None
        stream = body.get("stream", version != "main")
        if not stream:
            message: dict[str, Any] = {"role": "assistant", "content": answer}
            if reference is not None:
                message["reference"] = reference
            return {
                "id": f"chatcmpl-{chat_id}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", ""),
                "usage": {
                    "prompt_tokens": 7,
                    "completion_tokens": len(answer),
                    "total_tokens": 7 + len(answer),
                },
                "choices": [
                    {"message": message, "logprobs": None, "finish_reason": "stop", "index": 0}
                ],
            }
        return sse(frames(behaviour, version, chat_id, answer, reference, bool(chunks)))

    paths = ["/api/v1/chats_openai/{chat_id}/chat/completions"]
    if not old:
        paths.append("/api/v1/openai/{chat_id}/chat/completions")
    for path in paths:
        app.post(path.replace("{chat_id}", chat_id))(completions)
    return app


def chunk(chat_id: str, delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> str:
    payload = {
        "id": f"chatcmpl-{chat_id}",
        "choices": [
            {
                "delta": {
                    "content": "",
                    "role": "assistant",
                    "function_call": None,
                    "tool_calls": None,
                    "reasoning_content": "",
                    **delta,
                },
                "finish_reason": finish,
                "index": 0,
                "logprobs": None,
            }
        ],
        "created": int(time.time()),
        "model": "model",
        "object": "chat.completion.chunk",
        "system_fingerprint": "",
        "usage": usage,
    }
    return f"data:{json.dumps(payload, ensure_ascii=False)}\n\n"


async def frames(
    behaviour: Behaviour,
    version: str,
    chat_id: str,
    answer: str,
    reference: Any,
    retrieved: bool,
) -> AsyncIterator[str]:
    if behaviour.extra.get("reasoning"):
        yield chunk(chat_id, {"content": None, "reasoning_content": REASONING})
    failed = behaviour.extra.get("fail") == "model"
    if failed:
        yield chunk(chat_id, {"content": MODEL_FAILURE, "reasoning_content": None})
    elif not retrieved:
        yield chunk(chat_id, {"content": answer, "reasoning_content": None})
    else:
        async for _, piece in paced(behaviour):
            if behaviour.malformed:
                yield "data:{oops\n\n"
            yield chunk(chat_id, {"content": piece, "reasoning_content": None})
    if version == "0.25" and not failed:
        # the final event's whole (decorated) answer, re-emitted as content (#15286)
        yield chunk(chat_id, {"content": answer, "reasoning_content": None})
    final: dict[str, Any] = {"content": None, "reasoning_content": None}
    if reference is not None:
        final["reference"] = reference
        final["final_content"] = answer
    usage = {"prompt_tokens": 7, "completion_tokens": 23, "total_tokens": 30}
    yield chunk(chat_id, final, "stop", usage)
    yield "data:[DONE]\n\n"
