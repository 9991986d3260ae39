"""A MaxKB application's chat API, key as ``Authorization``.

MaxKB 1.x (``version=1``): ``GET /api/application/{id}/chat/open`` → ``{code: 200, message, data:
chat_id}``; ``POST /api/application/chat_message/{chat_id}`` streams ``data: {chat_id, id,
operate, content, node_id, up_node_id_list, is_end, usage}`` lines, the last with ``is_end:
true``; the sources are only in the chat record,
``GET /api/application/{id}/chat/{chat_id}/chat_record/{record_id}`` (``dataset_list``,
``paragraph_list``). A chat id the server never opened is refused.

MaxKB 2.x (``version=2``) serves the same under its chat app, the application implied by the
key: ``GET /chat/api/open``, ``POST /chat/api/chat_message/{chat_id}``, and the record at
``GET /chat/api/historical_conversation/{chat_id}/record/{record_id}``, whose knowledge bases
are named ``knowledge`` instead of ``dataset``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.servers import Behaviour, app_with, paced, received, refusal, sse

PARAGRAPHS = [
    {
        "id": "p-1",
        "content": "居住证申领：居民身份证、近期照片、居住证明。",
        "title": "申领材料",
        "dataset_id": "ds-1",
        "dataset_name": "政务知识库",
        "document_id": "doc-1",
        "document_name": "居住证办理指南",
        "similarity": 0.8812,
        "comprehensive_score": 0.8812,
        "meta": {"source_url": "https://zwfw.example.org/jzz/guide"},
    }
]


def result(data: Any, code: int = 200, message: str = "成功") -> dict[str, Any]:
    return {"code": code, "message": message, "data": data}


def v2_paragraph(paragraph: dict[str, Any]) -> dict[str, Any]:
    renamed = {"dataset_id": "knowledge_id", "dataset_name": "knowledge_name"}
    return {renamed.get(key, key): value for key, value in paragraph.items()}


def create_app(behaviour: Behaviour, application_id: str = "app-1", version: int = 1) -> FastAPI:
    app = app_with(behaviour)
    chats: dict[str, list[str]] = {}
    records: dict[str, dict[str, Any]] = {}
    app.state.chats = chats
    if version == 2:
        open_path, message_path = "/chat/api/open", "/chat/api/chat_message/{chat_id}"
        record_path = "/chat/api/historical_conversation/{chat_id}/record/{record_id}"
        knowledge: dict[str, Any] = {
            "knowledge_list": [{"id": "ds-1", "name": "政务知识库"}],
            "paragraph_list": [v2_paragraph(paragraph) for paragraph in PARAGRAPHS],
        }
    else:
        open_path = f"/api/application/{application_id}/chat/open"
        message_path = "/api/application/chat_message/{chat_id}"
        record_path = (
            f"/api/application/{application_id}/chat/{{chat_id}}/chat_record/{{record_id}}"
        )
        knowledge = {
            "dataset_list": [{"id": "ds-1", "name": "政务知识库"}],
            "paragraph_list": PARAGRAPHS,
        }

    @app.get(open_path)
    async def open_chat(request: Request) -> Any:
        await received(behaviour, request)
        refused = refusal(behaviour, request)
        if refused is not None:
            return refused
        chat_id = str(uuid.uuid4())
        chats[chat_id] = []
        return result(chat_id)

    @app.post(message_path)
    async def chat_message(chat_id: str, request: Request) -> Any:
        body = await received(behaviour, request)
        refused = refusal(behaviour, request, bool(body.get("stream")))
        if refused is not None:
            return refused
        if chat_id not in chats:
            return JSONResponse(result(None, 500, "会话不存在"), 500)
        chats[chat_id].append(body["message"])
        record_id = str(uuid.uuid4())
        records[record_id] = {
            "id": record_id,
            "chat": chat_id,
            "problem_text": body["message"],
            "answer_text": behaviour.answer,
            **knowledge,
        }
        if not body.get("stream", True):
            return result(
                {
                    "chat_id": chat_id,
                    "id": record_id,
                    "operate": True,
                    "content": behaviour.answer,
                    "is_end": True,
                }
            )
        return sse(frames(behaviour, chat_id, record_id))

    @app.get(record_path)
    async def chat_record(chat_id: str, record_id: str, request: Request) -> Any:
        await received(behaviour, request)
        record = records.get(record_id)
        if record is None or record["chat"] != chat_id:
            return JSONResponse(result(None, 404, "记录不存在"), 404)
        return result(record)

    return app


def line(chat_id: str, record_id: str, content: str, is_end: bool) -> str:
    payload = {
        "chat_id": chat_id,
        "id": record_id,
        "operate": True,
        "content": content,
        "node_id": "ai-chat-node",
        "up_node_id_list": ["start-node"],
        "is_end": is_end,
        "usage": {"completion_tokens": 9, "prompt_tokens": 9, "total_tokens": 18},
    }
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def frames(behaviour: Behaviour, chat_id: str, record_id: str) -> AsyncIterator[str]:
    async for _, piece in paced(behaviour):
        if behaviour.malformed:
            yield 'data: {"content\n\n'
        yield line(chat_id, record_id, piece, False)
    yield line(chat_id, record_id, "", True)
