"""A Dify chat, agent or chatflow application: ``POST {base_url}/chat-messages``.

The base URL is the application's "API server" address, ending in ``/v1``. Streamed replies are
``data: {"event": …}`` lines: ``message``/``agent_message`` carry pieces of the answer,
``message_replace`` replaces it (output moderation), ``message_end`` brings
``metadata.retriever_resources`` (the citations) and ends the answer, ``error`` ends it with a
failure, and ``event: ping`` lines keep the connection alive. Dify keeps the conversation
itself: the gateway sends back the ``conversation_id`` Dify gave the session's earlier answer,
and the session id (prefixed) as ``user``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pydantic import Field

from gateway.backends.base import (
    Answer,
    BackendError,
    Citation,
    Delta,
    Done,
    Event,
    Query,
    Replace,
)
from gateway.backends.remote import (
    RemoteBackend,
    RemoteOptions,
    data_of,
    http_url,
    score_of,
    text_of,
)

TEXT_EVENTS = {"message", "agent_message"}


class DifyOptions(RemoteOptions):
    #: The API server address, ending in ``/v1`` (``https://dify.example.gov.cn/v1``).
    base_url: str
    #: Values of the application's input variables.
    inputs: dict[str, Any] = Field(default_factory=dict)
    #: Dify's ``user`` is this prefix plus the gateway's session id.
    user_prefix: str = "gov-assistant-"


class DifyBackend(RemoteBackend):
    type = "dify"
    follows_conversation = True
    uses_language_model = True
    Options = DifyOptions
    options: DifyOptions

    def body(self, query: Query, mode: str, conversation_id: str) -> dict[str, Any]:
        return {
            "query": query.text,
            "inputs": self.options.inputs,
            "response_mode": mode,
            "user": self.options.user_prefix + (query.session_id or "anonymous"),
            "conversation_id": conversation_id,
            "auto_generate_name": False,
        }

    async def ask(self, query: Query) -> Answer:
        try:
            reply = await self.post_json(
                "/chat-messages", self.body(query, "blocking", query.conversation_id)
            )
        except BackendError as exc:
            if not _forgotten(exc, query):
                raise
            reply = await self.post_json("/chat-messages", self.body(query, "blocking", ""))
        metadata = reply.get("metadata") or {}
        return _answer(text_of(reply.get("answer")), metadata, reply.get("conversation_id"))

    async def stream(self, query: Query) -> AsyncIterator[Event]:
        try:
            async for event in self._stream(query, query.conversation_id):
                yield event
        except BackendError as exc:
            # Dify forgets conversations (deleted, or another app): start a new one. Nothing
            # has been sent yet when Dify refuses the id: it answers 404 before streaming.
            if not _forgotten(exc, query):
                raise
            async for event in self._stream(query, ""):
                yield event

    async def _stream(self, query: Query, conversation_id: str) -> AsyncIterator[Event]:
        text = ""
        async with self.open_stream(
            "/chat-messages", self.body(query, "streaming", conversation_id)
        ) as response:
            async for event in self.events(response):
                if event.event == "ping" or not event.data:
                    continue
                payload = data_of(self, event)
                kind = payload.get("event")
                conversation_id = payload.get("conversation_id") or conversation_id
                if kind in TEXT_EVENTS:
                    piece = text_of(payload.get("answer"))
                    if piece:
                        text += piece
                        yield Delta(piece)
                elif kind == "message_replace":
                    text = text_of(payload.get("answer"))
                    yield Replace(text)
                elif kind == "message_end":
                    yield Done(_answer(text, payload.get("metadata") or {}, conversation_id))
                    return
                elif kind == "error":
                    status = payload.get("status")
                    retryable = not isinstance(status, int) or status == 429 or status >= 500
                    raise BackendError(
                        f"{self.name}: {payload.get('code')}: {payload.get('message')}",
                        retryable=retryable,
                        status=status if isinstance(status, int) else None,
                    )
        raise BackendError(f"{self.name}: the stream ended before message_end")


def _forgotten(error: BackendError, query: Query) -> bool:
    return error.status == 404 and bool(query.conversation_id)


def _answer(text: str, metadata: dict[str, Any], conversation_id: Any) -> Answer:
    resources = metadata.get("retriever_resources") or []
    citations = [
        Citation(
            title=text_of(item.get("document_name")) or text_of(item.get("dataset_name")),
            url=http_url(item.get("url")),
            snippet=text_of(item.get("content")),
            score=score_of(item.get("score")),
        )
        for item in sorted(resources, key=lambda item: item.get("position") or 0)
        if isinstance(item, dict)
    ]
    return Answer(
        text=text.strip(),
        citations=citations,
        found=bool(text.strip()),
        conversation_id=conversation_id if isinstance(conversation_id, str) else "",
    )
