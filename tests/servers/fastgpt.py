"""A FastGPT application's chat API: ``POST /api/v1/chat/completions`` with ``detail``.

Streamed with ``detail: true``: ``event: flowNodeStatus`` lines, ``event: answer`` OpenAI chunks,
``event: answer`` / ``data: [DONE]``, and **then** ``event: flowResponses`` with the node results,
whose knowledge-base search node holds the ``quoteList``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request

from tests.servers import Behaviour, app_with, paced, received, refusal, sse

QUOTES = [
    {
        "id": "654f2e49b64caef1d9431e8b",
        "q": "居住证怎么办理？",
        "a": "向居住地派出所申领，需身份证和居住证明。",
        "datasetId": "646627f4f7b896cfd8910e38",
        "collectionId": "653279b16cd42ab509e766e8",
        "sourceName": "居住证问答.csv",
        "sourceId": "https://zwfw.example.org/jzz/faq",
        "score": [{"type": "embedding", "value": 0.8935, "index": 0}],
    }
]

NODES = [
    {
        "moduleName": "知识库搜索",
        "moduleType": "datasetSearchNode",
        "runningTime": 1.78,
        "quoteList": QUOTES,
    },
    {"moduleName": "AI 对话", "moduleType": "chatNode", "runningTime": 1.86, "quoteList": QUOTES},
]


def answer_chunk(content: str | None, finish: str | None = None) -> dict[str, Any]:
    delta = {} if content is None else {"role": "assistant", "content": content}
    return {
        "id": "",
        "object": "",
        "created": 0,
        "model": "",
        "choices": [{"delta": delta, "index": 0, "finish_reason": finish}],
    }


def create_app(behaviour: Behaviour) -> FastAPI:
    app = app_with(behaviour)
    chats: dict[str, list[str]] = {}
    app.state.chats = chats

    @app.post("/api/v1/chat/completions")
    async def completions(request: Request) -> Any:
        body = await received(behaviour, request)
        refused = refusal(behaviour, request, bool(body.get("stream")))
        if refused is not None:
            return refused
        question = body["messages"][-1]["content"]
        if body.get("chatId"):
            chats.setdefault(body["chatId"], []).append(question)
        if not body.get("stream"):
            reply = {
                "id": "",
                "model": "",
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 1},
                "choices": [
                    {
                        "message": {"role": "assistant", "content": behaviour.answer},
                        "finish_reason": "stop",
                        "index": 0,
                    }
                ],
            }
            return {"responseData": NODES, **reply} if body.get("detail") else reply
        return sse(frames(behaviour))

    return app


def event(name: str, payload: Any) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"event: {name}\ndata: {data}\n\n"


async def frames(behaviour: Behaviour) -> AsyncIterator[str]:
    yield event("flowNodeStatus", {"status": "running", "name": "知识库搜索"})
    yield event("flowNodeStatus", {"status": "running", "name": "AI 对话"})
    yield event("answer", answer_chunk(""))
    async for _, piece in paced(behaviour):
        if behaviour.malformed:
            yield "event: answer\ndata: {oops\n\n"
        yield event("answer", answer_chunk(piece))
    yield event("answer", answer_chunk(None, "stop"))
    yield event("answer", "[DONE]")
    yield event("flowResponses", NODES)
