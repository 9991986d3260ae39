"""A Dify chat application's service API: ``POST /v1/chat-messages``.

Streamed replies are ``data: {"event": …}`` lines (Dify names the event inside the JSON), with
``event: ping`` lines (no data) between them; ``message_end`` carries the
``retriever_resources``. ``extra["replace"]`` sends a ``message_replace`` before the end (output
moderation); ``extra["error"]`` an ``error`` event after the first piece. A conversation id the
server never gave is refused with 404, as Dify does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.servers import Behaviour, app_with, paced, received, refusal, sse

RESOURCES = [
    {
        "position": 2,
        "dataset_id": "ds-1",
        "dataset_name": "居住证政策",
        "document_id": "doc-2",
        "document_name": "居住证申领材料清单",
        "segment_id": "seg-2",
        "score": 0.71,
        "content": "申领居住证需提交居民身份证、居住证明。",
    },
    {
        "position": 1,
        "dataset_id": "ds-1",
        "dataset_name": "居住证政策",
        "document_id": "doc-1",
        "document_name": "居住证暂行条例",
        "segment_id": "seg-1",
        "score": 0.93,
        "content": "公民离开常住户口所在地，到其他城市居住半年以上……",
    },
]


def create_app(behaviour: Behaviour) -> FastAPI:
    app = app_with(behaviour)
    conversations: dict[str, list[str]] = {}
    app.state.conversations = conversations

    @app.post("/v1/chat-messages")
    async def chat_messages(request: Request) -> Any:
        body = await received(behaviour, request)
        streaming = body.get("response_mode") == "streaming"
        refused = refusal(behaviour, request, streaming)
        if refused is not None:
            return refused
        if not body.get("user") or not isinstance(body.get("query"), str):
            return JSONResponse(
                {"code": "invalid_param", "message": "user is required", "status": 400}, 400
            )
        conversation_id = body.get("conversation_id") or ""
        if conversation_id and conversation_id not in conversations:
            return JSONResponse(
                {"code": "not_found", "message": "Conversation Not Exists.", "status": 404}, 404
            )
        conversation_id = conversation_id or str(uuid.uuid4())
        conversations.setdefault(conversation_id, []).append(body["query"])
        message_id = str(uuid.uuid4())
        metadata = {"usage": {"total_tokens": 18}, "retriever_resources": RESOURCES}
        if not streaming:
            return {
                "event": "message",
                "task_id": "task-1",
                "id": message_id,
                "message_id": message_id,
                "conversation_id": conversation_id,
                "mode": "chat",
                "answer": behaviour.answer,
                "metadata": metadata,
                "created_at": 1705407629,
            }
        return sse(frames(behaviour, conversation_id, message_id, metadata))

    return app


def data(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def frames(
    behaviour: Behaviour, conversation_id: str, message_id: str, metadata: dict[str, Any]
) -> AsyncIterator[str]:
    ids = {"task_id": "task-1", "message_id": message_id, "conversation_id": conversation_id}
    yield "event: ping\n\n"
    async for number, piece in paced(behaviour):
        if behaviour.malformed:
            yield "data: {not json\n\n"
        yield data({"event": "message", **ids, "answer": piece, "created_at": 1705398420})
        if number == 0:
            yield "event: ping\n\n"
            if behaviour.extra.get("error"):
                yield data(
                    {
                        "event": "error",
                        **ids,
                        "status": 500,
                        "code": "completion_request_error",
                        "message": "model failed",
                    }
                )
                return
    if behaviour.extra.get("replace"):
        yield data({"event": "message_replace", **ids, "answer": behaviour.extra["replace"]})
    yield data({"event": "message_end", **ids, "id": message_id, "metadata": metadata})
