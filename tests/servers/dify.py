"""A Dify 1.x application's service API, as Dify's own source defines it.

Follows (langgenius/dify, ``api/``):
- ``controllers/service_api/app/completion.py`` — ``POST /v1/chat-messages``: the payload
  (``inputs``, ``query``, ``user`` required; ``conversation_id`` a UUID or empty), 404 "Conversation
  Not Exists.", model failures (``InvokeError``) as HTTP **400** ``completion_request_error``.
- ``controllers/service_api/app/error.py`` and ``libs/exception.py`` — error bodies
  ``{code, message, status}``; ``controllers/service_api/wraps.py`` — 401 ``unauthorized``.
- ``core/app/apps/agent_chat/app_generator.py`` — an Agent app refuses blocking mode with
  ``ValueError`` → 400 ``invalid_param`` "Agent Chat App does not support blocking mode".
- ``core/app/apps/chat/generate_response_converter.py`` (chat, agent-chat) and
  ``core/app/apps/advanced_chat/generate_response_converter.py`` (chatflow) — blocking bodies
  and stream chunks ``{event, conversation_id, message_id, created_at, …}``;
  ``core/app/apps/base_app_generate_response_converter.py`` ``_error_to_stream_response`` — the
  ``error`` event's ``{code, message, status}`` (a model failure: 400 ``completion_request_error``);
  ``core/app/entities/task_entities.py`` — the events (``message``, ``agent_message``,
  ``agent_thought``, ``message_replace``, ``message_end``, ``workflow_started``, ``node_started``,
  ``node_finished``, ``workflow_finished``, ``error``, ``ping``); ``"ping"`` is written as
  ``event: ping``, every chunk else as ``data: {json}``.
- ``controllers/service_api/app/message.py`` — ``GET /v1/messages/{id}/suggested?user=``
  (``{"result": "success", "data": [...]}``; disabled: ``app_suggested_questions_after_answer_
  disabled``) and ``POST /v1/messages/{id}/feedbacks`` ``{rating: like|dislike|null, user,
  content}`` → ``{"result": "success"}``; an unknown message: 404 "Message Not Exists.".

``mode`` is the application's: ``chat``, ``agent-chat`` or ``advanced-chat`` (chatflow).
``version`` names the Dify line followed (1.x). Test knobs in ``Behaviour.extra``: ``fail``
(``"model"``: the model call fails; ``"provider"``: no model credentials), ``replace``
(output moderation replaces the answer), ``suggestions_disabled``, ``resources`` (the
retriever resources; default ``RESOURCES``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.servers import Behaviour, app_with, paced, received, sse

MODES = ("chat", "agent-chat", "advanced-chat")

RESOURCES = [
    {
        "position": 2,
        "dataset_id": "6b0cd9b4-2c1e-4b55-9b3c-1f6e3a1b2c02",
        "dataset_name": "居住证政策",
        "document_id": "doc-2",
        "document_name": "居住证申领材料清单",
        "data_source_type": "upload_file",
        "segment_id": "seg-2",
        "retriever_from": "api",
        "score": 0.71,
        "hit_count": 3,
        "word_count": 120,
        "segment_position": 2,
        "index_node_hash": "a1",
        "content": "申领居住证需提交居民身份证、居住证明。",
    },
    {
        "position": 1,
        "dataset_id": "6b0cd9b4-2c1e-4b55-9b3c-1f6e3a1b2c02",
        "dataset_name": "居住证政策",
        "document_id": "doc-1",
        "document_name": "居住证暂行条例",
        "data_source_type": "upload_file",
        "segment_id": "seg-1",
        "retriever_from": "api",
        "score": 0.93,
        "hit_count": 5,
        "word_count": 300,
        "segment_position": 1,
        "index_node_hash": "b2",
        "content": "公民离开常住户口所在地，到其他城市居住半年以上……",
    },
]
USAGE = {
    "prompt_tokens": 1033,
    "prompt_unit_price": "0.001",
    "prompt_price_unit": "0.001",
    "prompt_price": "0.0010330",
    "completion_tokens": 135,
    "completion_unit_price": "0.002",
    "completion_price_unit": "0.001",
    "completion_price": "0.0002700",
    "total_tokens": 1168,
    "total_price": "0.0013030",
    "currency": "USD",
    "latency": 1.38,
}
SUGGESTED = ["居住证办理要多久？", "居住证可以异地办理吗？", "居住证到期怎么续签？"]
MODEL_FAILURE = "[openai] Error: Connection error."
PROVIDER_FAILURE = (
    "No valid model provider credentials found. "
    "Please go to Settings -> Model Provider to complete your provider credentials."
)


def error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "status": status}, status)


def create_app(behaviour: Behaviour, mode: str = "chat", version: str = "1") -> FastAPI:
    if mode not in MODES or version != "1":
        raise ValueError(f"not a Dify {version} application mode: {mode}")
    app = app_with(behaviour)
    conversations: dict[str, list[str]] = {}
    messages: dict[str, dict[str, Any]] = {}
    feedbacks: list[dict[str, Any]] = []
    app.state.conversations = conversations
    app.state.feedbacks = feedbacks

    def unauthorized(request: Request) -> JSONResponse | None:
        """``validate_app_token``: ``Authorization: Bearer {app key}``."""
        header = request.headers.get("authorization", "")
        if behaviour.api_key is None:
            return None
        if not header.startswith("Bearer "):
            return error(
                "unauthorized",
                "Authorization header must be provided and start with 'Bearer'",
                401,
            )
        if header[len("Bearer ") :] != behaviour.api_key:
            return error("unauthorized", "Access token is invalid", 401)
        return None

    @app.post("/v1/chat-messages")
    async def chat_messages(request: Request) -> Any:
        body = await received(behaviour, request)
        refused = unauthorized(request)
        if refused is not None:
            return refused
        if behaviour.status != 200:
            return error("internal_server_error", "Internal Server Error.", behaviour.status)
        if not isinstance(body.get("inputs"), dict):
            return error("invalid_param", "inputs: Field required", 400)
        if not isinstance(body.get("query"), str):
            return error("invalid_param", "query: Field required", 400)
        if not body.get("user"):
            return error("invalid_param", "user is required", 400)
        conversation_id = (body.get("conversation_id") or "").strip()
        if conversation_id:
            try:
                uuid.UUID(conversation_id)
            except ValueError:
                return error("invalid_param", "conversation_id must be a valid UUID", 400)
            if conversation_id not in conversations:
                return error("not_found", "Conversation Not Exists.", 404)
        streaming = body.get("response_mode") == "streaming"
        if mode == "agent-chat" and not streaming:
            return error("invalid_param", "Agent Chat App does not support blocking mode", 400)
        if behaviour.extra.get("fail") == "model" and not streaming:
            return error("completion_request_error", MODEL_FAILURE, 400)
        if behaviour.extra.get("fail") == "provider":
            # Raised while the app's model is resolved, before any streaming starts.
            return error("provider_not_initialize", PROVIDER_FAILURE, 400)
        conversation_id = conversation_id or str(uuid.uuid4())
        conversations.setdefault(conversation_id, []).append(body["query"])
        message_id = str(uuid.uuid4())
        messages[message_id] = {"user": body["user"], "conversation_id": conversation_id}
        resources = behaviour.extra.get("resources", RESOURCES)
        metadata: dict[str, Any] = {"annotation_reply": None, "usage": USAGE}
        if resources:
            metadata["retriever_resources"] = resources
        if not streaming:
            return {
                "event": "message",
                "task_id": "task-1",
                "id": message_id,
                "message_id": message_id,
                "conversation_id": conversation_id,
                "mode": mode,
                "answer": behaviour.answer,
                "metadata": metadata,
                "created_at": int(time.time()),
            }
        return sse(frames(behaviour, mode, conversation_id, message_id, metadata))

    @app.get("/v1/messages/{message_id}/suggested")
    async def suggested(message_id: str, request: Request) -> Any:
        await received(behaviour, request)
        refused = unauthorized(request)
        if refused is not None:
            return refused
        user = request.query_params.get("user")
        if not user:
            return error("invalid_param", "user is required", 400)
        message = messages.get(message_id)
        if message is None or message["user"] != user:
            return error("not_found", "Message Not Exists.", 404)
        if behaviour.extra.get("suggestions_disabled"):
            return error(
                "app_suggested_questions_after_answer_disabled",
                "Function Suggested questions after answer disabled.",
                403,
            )
        return {"result": "success", "data": SUGGESTED}

    @app.post("/v1/messages/{message_id}/feedbacks")
    async def feedback(message_id: str, request: Request) -> Any:
        body = await received(behaviour, request)
        refused = unauthorized(request)
        if refused is not None:
            return refused
        if not body.get("user"):
            return error("invalid_param", "user is required", 400)
        if body.get("rating") not in ("like", "dislike", None):
            return error("invalid_param", "rating: Input should be 'like' or 'dislike'", 400)
        message = messages.get(message_id)
        if message is None or message["user"] != body["user"]:
            return error("not_found", "Message Not Exists.", 404)
        feedbacks.append({"message_id": message_id, **body})
        return {"result": "success"}

    return app


def data(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def frames(
    behaviour: Behaviour,
    mode: str,
    conversation_id: str,
    message_id: str,
    metadata: dict[str, Any],
) -> AsyncIterator[str]:
    created = int(time.time())
    ids = {"conversation_id": conversation_id, "message_id": message_id, "created_at": created}
    task = {"task_id": "task-1", "id": message_id}
    run = {"task_id": "task-1", "workflow_run_id": "run-1"}
    yield "event: ping\n\n"
    if mode == "advanced-chat":
        yield data({"event": "workflow_started", **ids, **run, "data": {"id": "run-1"}})
        for node in ("start", "knowledge-retrieval", "llm"):
            yield data({"event": "node_started", **ids, **run, "data": {"node_type": node}})
            if node != "llm":
                yield data({"event": "node_finished", **ids, **run, "data": {"node_type": node}})
    if mode == "agent-chat":
        thought = {"id": "t-1", "position": 1, "thought": "", "observation": "", "tool": ""}
        yield data({"event": "agent_thought", **ids, **task, **thought, "tool_input": ""})
    if behaviour.extra.get("fail") == "model":
        yield data(
            {"event": "error", **ids, "code": "completion_request_error", "status": 400}
            | {"message": MODEL_FAILURE}
        )
        return
    event = "agent_message" if mode == "agent-chat" else "message"
    async for number, piece in paced(behaviour):
        if behaviour.malformed:
            yield "data: {not json\n\n"
        chunk = {"event": event, **ids, **task, "answer": piece}
        if mode == "advanced-chat":
            chunk["from_variable_selector"] = ["llm", "text"]
        yield data(chunk)
        if number == 0:
            yield "event: ping\n\n"
    if behaviour.extra.get("replace"):
        yield data(
            {"event": "message_replace", **ids, **task, "answer": behaviour.extra["replace"]}
            | {"reason": "output_moderation"}
        )
    yield data({"event": "message_end", **ids, **task, "metadata": metadata, "files": None})
    if mode == "advanced-chat":
        yield data({"event": "workflow_finished", **ids, **run, "data": {"status": "succeeded"}})
