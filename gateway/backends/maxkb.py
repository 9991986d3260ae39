"""A MaxKB application, through its own chat API (the one that can cite its sources).

A conversation is opened once per session (``GET …/open`` returns the ``chat_id``), then each
question is ``POST …/chat_message/{chat_id}`` ``{message, re_chat, stream}``. Streamed replies are
``data: {chat_id, id, content, is_end, …}`` lines, ``id`` being the chat record of this answer.
The stream carries no sources: they are read afterwards from the chat record
(``paragraph_list``, shown when the application's "show source" is on).

MaxKB 1.x serves this under ``/api/application/…``, 2.x under ``/chat/api/…``
(``api_version``). Replies are wrapped as ``{code, message, data}``; ``code`` 200 is success.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, Literal

from gateway.backends.base import Answer, BackendError, Citation, Delta, Done, Event, Query
from gateway.backends.remote import (
    RemoteBackend,
    RemoteOptions,
    data_of,
    http_url,
    score_of,
    text_of,
)

log = logging.getLogger("gateway.backends")


class MaxKBOptions(RemoteOptions):
    #: The MaxKB server (``http://maxkb.example.gov.cn``), without ``/api``.
    base_url: str
    #: The application's id (v1: in the open-chat path; v2: implied by the key).
    application_id: str = ""
    api_version: Literal[1, 2] = 1
    #: Read citations from the chat record after each answer.
    sources: bool = True


class MaxKBBackend(RemoteBackend):
    type = "maxkb"
    follows_conversation = True
    uses_language_model = True
    Options = MaxKBOptions
    options: MaxKBOptions

    # -- the two API versions ---------------------------------------------------------------

    @property
    def open_path(self) -> str:
        if self.options.api_version == 2:
            return "/chat/api/open"
        return f"/api/application/{self.options.application_id}/chat/open"

    def message_path(self, chat_id: str) -> str:
        prefix = "/chat/api" if self.options.api_version == 2 else "/api/application"
        return f"{prefix}/chat_message/{chat_id}"

    def record_path(self, chat_id: str, record_id: str) -> str:
        if self.options.api_version == 2:
            return f"/chat/api/historical_conversation/{chat_id}/record/{record_id}"
        return (
            f"/api/application/{self.options.application_id}/chat/{chat_id}/chat_record/{record_id}"
        )

    # -- answering ---------------------------------------------------------------------------

    async def ask(self, query: Query) -> Answer:
        chat_id = query.conversation_id or await self.open_chat()
        reply = self.unwrap(
            await self.post_json(self.message_path(chat_id), self.body(query, stream=False))
        )
        text = text_of(reply.get("content"))
        return await self.answer(chat_id, str(reply.get("id") or ""), text)

    async def stream(self, query: Query) -> AsyncIterator[Event]:
        chat_id = query.conversation_id or await self.open_chat()
        text, record_id, ended = "", "", False
        async with self.open_stream(self.message_path(chat_id), self.body(query, True)) as response:
            async for event in self.events(response):
                if not event.data:
                    continue
                chunk = data_of(self, event)
                if not isinstance(chunk, dict):
                    continue
                if (
                    "code" in chunk
                    and chunk.get("code") not in (200, None)
                    and "content" not in chunk
                ):
                    raise self.refusal(chunk)
                record_id = str(chunk.get("id") or chunk.get("chat_record_id") or record_id)
                piece = text_of(chunk.get("content"))
                if piece:
                    text += piece
                    yield Delta(piece)
                if chunk.get("is_end"):
                    ended = True
                    break
        if not ended:
            raise BackendError(f"{self.name}: the stream ended before is_end")
        yield Done(await self.answer(chat_id, record_id, text))

    def body(self, query: Query, stream: bool) -> dict[str, Any]:
        return {"message": query.text, "re_chat": False, "stream": stream}

    async def open_chat(self) -> str:
        chat_id = self.unwrap(await self.request_json("GET", self.open_path))
        if not isinstance(chat_id, str) or not chat_id:
            raise BackendError(f"{self.name}: opening a chat returned {chat_id!r}")
        return chat_id

    async def answer(self, chat_id: str, record_id: str, text: str) -> Answer:
        citations: list[Citation] = []
        if self.options.sources and record_id and text.strip():
            try:
                record = self.unwrap(
                    await self.request_json("GET", self.record_path(chat_id, record_id))
                )
                citations = paragraphs(record)
            except BackendError as exc:
                # The answer is complete; losing its sources is no reason to withhold it.
                log.warning("%s: no sources for record %s: %s", self.name, record_id, exc)
        return Answer(
            text=text.strip(),
            citations=citations,
            found=bool(text.strip()),
            conversation_id=chat_id,
        )

    def unwrap(self, reply: Any) -> Any:
        if not isinstance(reply, dict) or reply.get("code") != 200:
            raise self.refusal(reply)
        return reply.get("data")

    def refusal(self, body: Any) -> BackendError:
        code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else str(body)[:200]
        retryable = isinstance(code, int) and (code == 429 or code >= 500)
        return BackendError(f"{self.name}: {code} {message}", retryable=retryable)


def paragraphs(record: Any) -> list[Citation]:
    """Citations from a chat record's ``paragraph_list`` (v1 names knowledge bases
    ``dataset``, v2 ``knowledge``)."""
    items = record.get("paragraph_list") if isinstance(record, dict) else None
    citations = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
        citations.append(
            Citation(
                title=text_of(item.get("document_name"))
                or text_of(item.get("title"))
                or text_of(item.get("dataset_name") or item.get("knowledge_name")),
                url=http_url(meta.get("source_url")),
                snippet=text_of(item.get("content")),
                score=score_of(item.get("similarity")),
            )
        )
    return citations
