"""The OpenAI-compatible facade: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Any OpenAI client or chat front end can talk to the gateway as if it were a model. Questions go
through the same pipeline, masking and routing as ``/api/v1/chat``: the last user message is
the question, the earlier messages the conversation. ``model`` may name an assistant
(``ChatRequest.agent``, as the routes' ``agents``); any other name is ignored. The reply is a
``chat.completion`` (or its chunks, ending with ``data: [DONE]``) with three additions:
``citations``, ``backend`` and ``session_id``. An ``Authorization`` header is accepted and,
unless ``[facade] api_key_env`` names a key, ignored. docs/api.md.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.locale import request_locale
from gateway.api.schemas import ChatRequest, ChatResponse, Identifier
from gateway.api.security import bearer_matches, limit
from gateway.backends.base import Turn
from gateway.chat import ChatService
from gateway.errors import GatewayError
from gateway.safety import pii

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    #: Text, or a list of parts of which the ``text`` ones are read.
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        parts = self.content or []
        return "".join(str(part.get("text", "")) for part in parts if part.get("type") == "text")


class CompletionRequest(BaseModel):
    # OpenAI clients send many more fields (temperature, max_tokens …): they are accepted and
    # left to the back ends' own configuration.
    model_config = ConfigDict(extra="allow")

    model: str = ""
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    #: Not OpenAI's: continue this gateway conversation (back ends' conversation ids).
    session_id: Identifier | None = None


def _service(request: Request) -> ChatService:
    return request.app.state.chat


def _authorize(request: Request, service: ChatService) -> None:
    variable = service.settings.facade.api_key_env
    expected = os.environ.get(variable, "") if variable else ""
    if not expected:
        return
    if not bearer_matches(request, expected):
        raise GatewayError("unauthorized")


@router.post("/chat/completions", summary="Ask, as an OpenAI chat model")
async def chat_completions(body: CompletionRequest, request: Request) -> Any:
    service = _service(request)
    _authorize(request, service)
    locale = request_locale(request)
    await limit(request, "per_ip")
    if body.session_id:
        await limit(request, "per_session", body.session_id)
    *earlier, last = body.messages
    if last.role != "user":
        raise GatewayError("invalid_request", detail="the last message must be the user's")
    history = [
        Turn(message.role, pii.mask(message.text).text)  # type: ignore[arg-type]
        for message in earlier
        if message.role in ("user", "assistant") and message.text
    ]
    question = ChatRequest(
        message=last.text,
        session_id=body.session_id,
        agent=body.model if body.model in service.router.agents else None,
        stream=body.stream,
    )
    # The client keeps the conversation; a session id alone continues the gateway's.
    turns = history if earlier or body.session_id is None else None
    model = body.model or service.settings.facade.model
    if not body.stream:
        response = await service.answer(question, locale, history=turns)
        return JSONResponse(_completion(response, model))
    events = await service.stream(question, locale, history=turns)
    return StreamingResponse(
        _chunks(events, model),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/models", summary="The assistant, and the agents it can be asked as")
async def models(request: Request) -> dict[str, Any]:
    service = _service(request)
    names = [service.settings.facade.model, *service.router.agents]
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "owned_by": "gateway"} for name in names],
    }


def _extras(response: ChatResponse) -> dict[str, Any]:
    return {
        "citations": [citation.model_dump() for citation in response.citations],
        "backend": response.backend,
        "session_id": response.session_id,
        "found": response.found,
    }


def _completion(response: ChatResponse, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{response.message_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": response.answer},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        **_extras(response),
    }


async def _chunks(events: AsyncIterator[tuple[str, Any]], model: str) -> AsyncIterator[str]:
    completion_id = f"chatcmpl-{secrets.token_hex(12)}"
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    role_sent = False
    async for name, data in events:
        if name in ("delta", "replace"):
            delta = {"content": data["text"]}
            if not role_sent:
                delta = {"role": "assistant", **delta}
                role_sent = True
            # OpenAI chunks cannot withdraw text; "replace" tells clients that know it.
            yield chunk(delta, **({"replace": True} if name == "replace" else {}))
        elif name == "done":
            yield chunk({}, "stop", **_extras(ChatResponse.model_validate(data)))
        elif name == "error":
            yield f"data: {json.dumps(data, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
