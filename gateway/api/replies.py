"""The domain reply (gateway/replies.py) as the HTTP API sends it: the JSON ``ChatResponse`` and
the Server-Sent Events of ``/api/v1/chat``. (The OpenAI facade maps the same events to its
chunks in gateway/api/openai.py.)"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from gateway.api.schemas import ChatResponse, CitationOut, Notice
from gateway.backends.base import Delta
from gateway.errors import GatewayError
from gateway.replies import Failed, Finished, Reply, ReplyEvent


def response(reply: Reply) -> ChatResponse:
    return ChatResponse(
        message_id=reply.message_id,
        session_id=reply.session_id,
        answer=reply.answer,
        answer_text=reply.answer_text,
        language=reply.language,
        found=reply.found,
        citations=[
            CitationOut(title=c.title, url=c.url, snippet=c.snippet, score=c.score)
            for c in reply.citations
        ],
        suggestions=list(reply.suggestions),
        notices=[Notice(code=n.code, message=n.message) for n in reply.notices],
        backend=reply.backend,
        did_you_mean=reply.did_you_mean,
        original_answer=reply.original_answer,
    )


def error_body(error: GatewayError, locale: str, hotline: str) -> dict[str, Any]:
    return error.body(locale, hotline=hotline)


async def sse_events(
    events: AsyncIterator[ReplyEvent], locale: str, hotline: str
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """``(event, data)``: ``delta``/``replace`` ``{text}``, then ``citations`` and ``done`` (the
    whole ``ChatResponse``), or ``error``."""
    async for event in events:
        if isinstance(event, Finished):
            done = response(event.reply).model_dump()
            yield "citations", {"citations": done["citations"]}
            yield "done", done
        elif isinstance(event, Failed):
            yield "error", error_body(event.error, locale, hotline)
        else:
            yield ("delta" if isinstance(event, Delta) else "replace"), {"text": event.text}


async def sse(events: AsyncIterator[ReplyEvent], locale: str, hotline: str) -> AsyncIterator[str]:
    async for name, data in sse_events(events, locale, hotline):
        yield f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
