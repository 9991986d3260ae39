"""A FastGPT 4.x application's chat API, as FastGPT's own source defines it.

Follows (labring/FastGPT):
- ``projects/app/src/pages/api/v1/chat/completions.ts`` — ``POST /api/v1/chat/completions``:
  ``stream``/``detail`` default false; ``chatId`` keeps the history server-side;
  ``responseChatItemId`` names the answer's chat item (the one feedback is given to). Streamed:
  the node events, ``event: answer`` chunks, a ``finish_reason: "stop"`` chunk, ``event: answer``
  / ``data: [DONE]``, and **then** ``event: flowResponses`` (the node results). Not streamed:
  ``{responseData, newVariables, error, id, model, usage, choices}`` where ``message.content``
  is the text when the app gave one text, and **an array of parts** (reasoning, text, tool)
  when it gave more (a reasoning model, tools, several reply nodes).
- ``packages/service/common/response/index.ts`` — failures: ``jsonRes`` answers HTTP 500
  ``{code, statusText, message, data}``; ``sseErrRes`` writes ``event: error`` /
  ``data: {…}`` with HTTP 200, and for a request refused before the workflow starts (a wrong
  key: code 514 ``unAuthApiKey``) before any ``Content-Type`` was set
  (``packages/service/core/workflow/dispatch/index.ts`` sets ``text/event-stream`` only when
  the workflow starts).
- ``packages/global/common/error/errorCode.ts`` — the codes (514 ``unAuthApiKey``, 510
  ``insufficientQuota`` …).
- ``projects/app/src/pages/api/core/chat/feedback/updateUserFeedback.ts`` —
  ``POST /api/core/chat/feedback/updateUserFeedback`` ``{appId, chatId, dataId,
  userGoodFeedback?, userBadFeedback?}`` (an app key may use it).

``app`` is the application: ``simple`` (knowledge base + AI chat), ``reasoning`` (a reasoning
model: ``reasoning_content`` pieces first), ``tool`` (a tool call, then the answer) or
``replies`` (a fixed reply node, then the AI chat: two text parts). ``version`` names the
FastGPT line followed (4.x). Test knobs in ``Behaviour.extra``: ``fail`` (``"quota"``: the
team's points are exhausted, refused before the workflow runs; ``"model"``: the AI chat node
fails, its ``errorText`` in the node results), ``empty`` (the search finds nothing).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.servers import Behaviour, app_with, paced, received, sse

APPS = ("simple", "reasoning", "tool", "replies")
APP_ID = "6679c0f0a6b4a3e1b2c3d4e5"

QUOTES = [
    {
        "id": "654f2e49b64caef1d9431e8b",
        "datasetId": "646627f4f7b896cfd8910e38",
        "collectionId": "653279b16cd42ab509e766e8",
        "sourceName": "居住证问答.csv",
        "sourceId": "https://zwfw.example.org/jzz/faq",
        "q": "居住证怎么办理？",
        "a": "向居住地派出所申领，需身份证和居住证明。",
        "chunkIndex": 0,
        "score": [{"type": "embedding", "value": 0.8935, "index": 0}],
    }
]
REASONING = "用户问居住证，先查知识库。"
FIXED_REPLY = "您好，以下是居住证办理说明："
TOOL = {
    "id": "call-1",
    "toolName": "办事指南查询",
    "toolAvatar": "",
    "functionName": "guide",
    "params": '{"item": "居住证"}',
    "response": "",
}
MODEL_FAILURE = "LLM model response empty"
ERRORS = {
    "unAuthApiKey": {"code": 514, "statusText": "unAuthApiKey", "message": "Api Key 不合法"},
    "insufficientQuota": {
        "code": 510,
        "statusText": "insufficientQuota",
        "message": "账号余额不足",
    },
}


def answer_chunk(
    content: str | None = None, finish: str | None = None, reasoning: str | None = None
) -> dict[str, Any]:
    """``textAdaptGptResponse`` (packages/global/core/workflow/runtime/utils.ts)."""
    delta: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    return {
        "id": "",
        "object": "",
        "created": 0,
        "model": "",
        "choices": [{"delta": delta, "index": 0, "finish_reason": finish}],
    }


def nodes(app: str, answer: str, quotes: list[Any], error: str = "") -> list[dict[str, Any]]:
    chat: dict[str, Any] = {
        "id": "chat-node",
        "nodeId": "chatNode",
        "moduleName": "AI 对话",
        "moduleType": "chatNode",
        "totalPoints": 0.3,
        "model": "qwen-plus",
        "inputTokens": 812,
        "outputTokens": 0 if error else 96,
        "query": "居住证怎么办理",
        "quoteList": quotes,
        "runningTime": 1.86,
    }
    if error:
        chat["errorText"] = error
    if app == "reasoning":
        chat["reasoningText"] = REASONING
    flow = [
        {
            "id": "search-node",
            "nodeId": "datasetSearchNode",
            "moduleName": "知识库搜索",
            "moduleType": "datasetSearchNode",
            "totalPoints": 0.01,
            "query": "居住证怎么办理",
            "similarity": 0.4,
            "limit": 3000,
            "quoteList": quotes,
            "runningTime": 1.78,
        },
        chat,
    ]
    if app == "tool":
        flow.append(
            {
                "id": "tool-node",
                "moduleName": "工具调用",
                "moduleType": "tools",
                "toolDetail": [],
                "runningTime": 0.5,
            }
        )
    return flow


def create_app(behaviour: Behaviour, app: str = "simple", version: str = "4") -> FastAPI:
    if app not in APPS or version != "4":
        raise ValueError(f"not a FastGPT {version} application: {app}")
    server = app_with(behaviour)
    chats: dict[str, list[str]] = {}
    items: dict[tuple[str, str], dict[str, Any]] = {}
    server.state.chats = chats
    server.state.items = items

    def refused(request: Request) -> str | None:
        key = behaviour.api_key
        if key is not None and request.headers.get("authorization") != f"Bearer {key}":
            return "unAuthApiKey"
        if behaviour.extra.get("fail") == "quota":
            return "insufficientQuota"
        return None

    @server.post("/api/v1/chat/completions")
    async def completions(request: Request) -> Any:
        body = await received(behaviour, request)
        stream = bool(body.get("stream", False))
        detail = bool(body.get("detail", False))
        messages = body.get("messages")
        problem = refused(request)
        if problem is None and (not isinstance(messages, list) or not messages):
            problem = "messages is empty"
        if problem is not None:
            payload = ERRORS.get(problem, {"message": problem})
            if stream:
                # sseErrRes before dispatchWorkFlow set the headers: no Content-Type at all
                frame = f"event: error\ndata: {json.dumps({**payload, 'data': None})}\n\n"
                return Response(frame.encode(), status_code=200, media_type=None)
            return JSONResponse({"statusText": "error", "data": None, **payload}, 500)
        if behaviour.status != 200:
            return JSONResponse({"code": 500, "statusText": "error", "message": "服务异常"}, 500)
        question = messages[-1].get("content")
        chat_id = body.get("chatId") or ""
        item_id = body.get("responseChatItemId") or uuid.uuid4().hex[:24]
        if chat_id:
            chats.setdefault(chat_id, []).append(question)
            items[(chat_id, item_id)] = {"question": question}
        quotes = [] if behaviour.extra.get("empty") else QUOTES
        error = MODEL_FAILURE if behaviour.extra.get("fail") == "model" else ""
        answer = "" if error else behaviour.answer
        flow = nodes(app, answer, quotes, error)
        if not stream:
            reply: dict[str, Any] = {
                "error": error or None,
                "id": chat_id,
                "model": "",
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 1},
                "choices": [
                    {
                        "message": {"role": "assistant", "content": content(app, answer, detail)},
                        "finish_reason": "stop",
                        "index": 0,
                    }
                ],
            }
            return {"responseData": flow, "newVariables": {}, **reply} if detail else reply
        return sse(frames(behaviour, app, answer, flow, detail))

    @server.post("/api/core/chat/feedback/updateUserFeedback")
    async def feedback(request: Request) -> Any:
        body = await received(behaviour, request)
        problem = refused(request)
        if problem is not None:
            return JSONResponse({**ERRORS[problem], "data": None}, 500)
        if body.get("appId") != APP_ID:
            return JSONResponse({"code": 500, "statusText": "error", "message": "应用不存在"}, 500)
        if not body.get("dataId"):
            return JSONResponse(
                {"code": 500, "statusText": "error", "message": "dataId is required"}, 500
            )
        item = items.get((body.get("chatId"), body["dataId"]))
        if item is not None:  # findOneAndUpdate: an unknown item changes nothing, still 200
            for key in ("userGoodFeedback", "userBadFeedback"):
                if key in body:
                    item[key] = body[key]
                else:
                    item.pop(key, None)
        return {"code": 200, "statusText": "", "message": "", "data": None}

    return server


def content(app: str, answer: str, detail: bool) -> Any:
    """``responseContent`` of completions.ts: the parts the app gave."""
    parts: list[dict[str, Any]] = []
    if app == "reasoning":
        parts.append({"type": "reasoning", "reasoning": {"content": REASONING}})
    if app == "tool":
        parts.append({"type": "tool", "tools": [{**TOOL, "response": "居住证办理指南"}]})
    if app == "replies":
        parts.append({"type": "text", "text": {"content": FIXED_REPLY}})
    if answer:
        parts.append({"type": "text", "text": {"content": answer}})
    if not parts:
        return ""
    if len(parts) == 1 and parts[0]["type"] == "text":
        return parts[0]["text"]["content"]
    if not detail:
        return "\n".join(part["text"]["content"] for part in parts if part["type"] == "text")
    return parts


def event(name: str | None, payload: Any) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return (f"event: {name}\n" if name else "") + f"data: {data}\n\n"


async def frames(
    behaviour: Behaviour, app: str, answer: str, flow: list[Any], detail: bool
) -> AsyncIterator[str]:
    def node_event(name: str, payload: Any) -> str | None:
        # getWorkflowResponseWrite: without detail only answer events are written, unnamed
        if name in ("answer", "fastAnswer"):
            return event(name if detail else None, payload)
        return event(name, payload) if detail else None

    out = [
        node_event("flowNodeStatus", {"status": "running", "name": "知识库搜索"}),
        node_event("flowNodeStatus", {"status": "running", "name": "AI 对话"}),
    ]
    if app == "replies":
        out.append(node_event("fastAnswer", answer_chunk(FIXED_REPLY)))
    if app == "tool":
        out += [
            node_event("toolCall", {"tool": TOOL}),
            node_event("toolParams", {"tool": {**TOOL, "params": TOOL["params"]}}),
            node_event("toolResponse", {"tool": {**TOOL, "response": "居住证办理指南"}}),
        ]
    if app == "reasoning":
        out.append(node_event("answer", answer_chunk(reasoning=REASONING)))
    for frame in out:
        if frame:
            yield frame
    if answer:
        async for _, piece in paced(behaviour):
            if behaviour.malformed:
                yield node_event("answer", "{oops") or ""
            yield node_event("answer", answer_chunk(piece)) or ""
    yield node_event("answer", answer_chunk(None, "stop")) or ""
    yield event("answer" if detail else None, "[DONE]")
    if detail:
        yield event("flowResponses", flow)
