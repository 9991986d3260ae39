"""The OpenAI-compatible facade: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Any OpenAI client or chat front end can talk to the gateway as if it were a model. Questions go
through the same pipeline, masking and routing as ``/api/v1/chat``: the last user message is
the question, the earlier messages the conversation. ``model`` may name an assistant
(``ChatRequest.agent``, as the routes' ``agents``); any other name is ignored. The reply is a
``chat.completion`` (or its chunks, ending with ``data: [DONE]``) with the fields of
:data:`EXTRAS` added: ``citations``, ``backend``, ``session_id`` and ``found``. An
``Authorization`` header is accepted and, unless ``[facade] api_key_env`` names a key, ignored.
docs/api.md.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from gateway.api.errors import is_json
from gateway.api.locale import request_locale
from gateway.api.replies import response, sse_events
from gateway.api.schemas import ChatResponse, Identifier, error_responses
from gateway.api.security import bearer_matches, limit
from gateway.backends.base import Turn
from gateway.chat import ChatService
from gateway.errors import GatewayError

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], responses=error_responses(401))

#: The reply's fields beyond OpenAI's.
EXTRAS = ("citations", "backend", "session_id", "found")


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
    stream: StrictBool = False
    #: Not OpenAI's: continue this gateway conversation (back ends' conversation ids).
    session_id: Identifier | None = None


class CompletionRoute(APIRoute):
    """``POST /v1/chat/completions`` as FastAPI documents it (the endpoint's signature), but
    served by a lean handler: the body parsed and validated in one step by pydantic, then the
    endpoint called. FastAPI's per-request dependency machinery cost more than a tenth of the
    gateway's own work per question (docs/benchmarks.md). Bad bodies raise the same
    ``RequestValidationError`` FastAPI would, so they get the same localized errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            return await endpoint(await completion_request(request), request)

        return handle


async def completion_request(request: Request) -> CompletionRequest:
    raw = await request.body()
    if not raw:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    if not is_json(request):
        raise GatewayError("unsupported_media_type")
    try:
        return CompletionRequest.model_validate_json(raw)
    except ValidationError as exc:
        problems = [
            {**problem, "loc": ("body", *problem["loc"])}
            for problem in exc.errors(include_url=False, include_context=False)
        ]
        raise RequestValidationError(problems) from None


def _service(request: Request) -> ChatService:
    return request.app.state.chat


def _authorize(request: Request, service: ChatService) -> None:
    variable = service.settings.facade.api_key_env
    expected = os.environ.get(variable, "") if variable else ""
    if not expected:
        return
    if not bearer_matches(request, expected):
        raise GatewayError("unauthorized")


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
        Turn(message.role, message.text)  # type: ignore[arg-type]
        for message in earlier
        if message.role in ("user", "assistant") and message.text
    ]
    # The client keeps the conversation; a session id alone continues the gateway's. The
    # service masks the turns with the question.
    prepared = service.prepare(
        last.text,
        locale,
        session_id=body.session_id,
        agent=body.model if body.model in service.router.agents else None,
        history=history if earlier or body.session_id is None else None,
        # OpenAI clients read the Markdown answer: no plain-text copy is made for them.
        plain_text=False,
    )
    model = body.model or service.settings.facade.model
    if not body.stream:
        return JSONResponse(_completion(response(await service.answer(prepared)), model))
    events = sse_events(service.stream(prepared), locale, service.hotline)
    return StreamingResponse(
        _chunks(events, model),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


router.add_api_route(
    "/chat/completions",
    chat_completions,
    methods=["POST"],
    summary="Ask, as an OpenAI chat model",
    route_class_override=CompletionRoute,
)


@router.get("/models", summary="The assistant, and the agents it can be asked as")
async def models(request: Request) -> dict[str, Any]:
    service = _service(request)
    names = [service.settings.facade.model, *service.router.agents]
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "owned_by": "gateway"} for name in names],
    }


def _extras(reply: dict[str, Any]) -> dict[str, Any]:
    """``reply``: a ``ChatResponse`` as a dict."""
    return {key: reply[key] for key in EXTRAS}


def _completion(reply: ChatResponse, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{reply.message_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.answer},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        **_extras(reply.model_dump(include=set(EXTRAS))),
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
            yield chunk({}, "stop", **_extras(data))
        elif name == "error":
            yield f"data: {json.dumps(data, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
