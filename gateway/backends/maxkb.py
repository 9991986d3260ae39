"""A MaxKB application, through its own chat API (the one that can cite its sources).

A conversation is opened once per session (``GET …/open`` returns the ``chat_id``), then each
question is ``POST …/chat_message/{chat_id}`` ``{message, re_chat, stream: true}`` — always
streamed, a whole answer being the stream collected. Streamed replies are ``data: {chat_id,
chat_record_id, content, is_end, usage, …}`` lines. The stream carries no sources: they are
read afterwards from the chat record: its ``paragraph_list`` (MaxKB 2.x shows it only with the
application's "show source" on) and the knowledge-search nodes of its ``execution_details``
(where a workflow application's are).

MaxKB 1.x serves this under ``/api/application/…`` and reads the key raw
(``Authorization: application-…``); 2.x serves it under ``{chat_path}/api/…`` (``CHAT_PATH``,
``/chat`` by default) and wants ``Bearer application-…`` (``api_version``). Replies are wrapped
as ``{code, message, data}``; a failing model is streamed as content starting
``Exception:``, which is never shown: it is the engine's failure. A chat MaxKB no longer
holds (restarted, expired) is answered with HTTP 500: the chat is opened anew once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
from pydantic import Field, model_validator

from gateway.backends.base import Answer, BackendError, Citation, Delta, Done, Event, Query
from gateway.backends.remote import (
    EngineOptions,
    FeedbackRecord,
    RemoteBackend,
    data_of,
    empty_reply,
    score_of,
    source_url,
    text_of,
)

log = logging.getLogger("gateway.backends")

#: How MaxKB hands a failure to the reader as if it were the answer (base_chat_step.py,
#: workflow_manage.py).
FAILURE_PREFIX = "Exception:"
#: MaxKB's codes for a refused key (1002 illegal user, 1003 not logged in).
REFUSED_CODES = {1002, 1003}
SEARCH_NODES = {"search-dataset-node", "search-knowledge-node"}


class MaxKBOptions(EngineOptions):
    #: The MaxKB server (``http://maxkb.example.gov.cn``), without ``/api``.
    base_url: str
    #: The application's id (1.x: in the paths; 2.x: implied by the key).
    application_id: str = ""
    api_version: Literal[1, 2] = 1
    #: 2.x: the chat application's path prefix, MaxKB's ``CHAT_PATH`` setting.
    chat_path: str = Field("/chat", pattern=r"^/[^?#]*$")
    #: Read citations from the chat record after each answer.
    sources: bool = True

    @model_validator(mode="after")
    def _application_named(self) -> MaxKBOptions:
        if self.api_version == 1 and not self.application_id:
            raise ValueError("MaxKB 1.x needs application_id (it is in every path)")
        return self


class MaxKBBackend(RemoteBackend):
    type = "maxkb"
    follows_conversation = True
    uses_language_model = True
    Options = MaxKBOptions
    options: MaxKBOptions

    def auth_headers(self) -> dict[str, str]:
        # 1.x compares the raw header with its keys (``startswith("application-")``).
        if self.api_key and self.options.api_version == 1:
            return {"Authorization": self.api_key}
        return super().auth_headers()

    # -- the two API versions ---------------------------------------------------------------

    @property
    def chat_api(self) -> str:
        return self.options.chat_path.rstrip("/") + "/api"

    @property
    def open_path(self) -> str:
        if self.options.api_version == 2:
            return f"{self.chat_api}/open"
        return f"/api/application/{self.options.application_id}/chat/open"

    def message_path(self, chat_id: str) -> str:
        prefix = self.chat_api if self.options.api_version == 2 else "/api/application"
        return f"{prefix}/chat_message/{chat_id}"

    def record_path(self, chat_id: str, record_id: str) -> str:
        if self.options.api_version == 2:
            return f"{self.chat_api}/historical_conversation/{chat_id}/record/{record_id}"
        return (
            f"/api/application/{self.options.application_id}/chat/{chat_id}/chat_record/{record_id}"
        )

    def vote_path(self, chat_id: str, record_id: str) -> str:
        if self.options.api_version == 2:
            return f"{self.chat_api}/vote/chat/{chat_id}/chat_record/{record_id}"
        return self.record_path(chat_id, record_id) + "/vote"

    # -- answering ---------------------------------------------------------------------------

    async def stream(self, query: Query) -> AsyncIterator[Event]:
        chat_id = query.conversation_id or await self.open_chat()
        try:
            async for event in self._stream(query, chat_id):
                yield event
        except BackendError as exc:
            # Nothing was sent: MaxKB refuses a chat it no longer holds before streaming.
            if not (exc.status == 500 and query.conversation_id):
                raise
            async for event in self._stream(query, await self.open_chat()):
                yield event

    async def _stream(self, query: Query, chat_id: str) -> AsyncIterator[Event]:
        text, record_id, ended = "", "", False
        body = {"message": query.text, "re_chat": False, "stream": True}
        async with self.open_stream(self.message_path(chat_id), body) as response:
            async for event in self.events(response):
                if not event.data:
                    continue
                chunk = data_of(self, event)
                if not isinstance(chunk, dict):
                    continue
                if "code" in chunk and chunk.get("code") not in (200, None):
                    raise self.refusal(chunk)
                record_id = str(chunk.get("chat_record_id") or chunk.get("id") or record_id)
                piece = text_of(chunk.get("content"))
                if piece.startswith(FAILURE_PREFIX):
                    raise BackendError(f"{self.name}: the engine failed: {piece[:200]}")
                if piece:
                    text += piece
                    yield Delta(piece)
                if chunk.get("is_end"):
                    usage = chunk.get("usage") or {}
                    # MaxKB passes (request, response) tokens as (completion, prompt)
                    # (base_chat_step.py, workflow_manage.py): read them the right way round.
                    self.count_usage(
                        {
                            "prompt_tokens": usage.get("completion_tokens"),
                            "completion_tokens": usage.get("prompt_tokens"),
                        }
                    )
                    ended = True
                    break
        if not ended:
            raise BackendError(f"{self.name}: the stream ended before is_end")
        yield Done(await self.answer(query, chat_id, record_id, text))

    async def open_chat(self) -> str:
        chat_id = self.unwrap(await self.request_json("GET", self.open_path))
        if not isinstance(chat_id, str) or not chat_id:
            raise BackendError(f"{self.name}: opening a chat returned {chat_id!r}")
        return chat_id

    async def answer(self, query: Query, chat_id: str, record_id: str, text: str) -> Answer:
        text = text.strip()
        found = bool(text) and not empty_reply(self.options, query, text)
        citations: list[Citation] = []
        if self.options.sources and record_id and found:
            try:
                record = self.unwrap(
                    await self.request_json("GET", self.record_path(chat_id, record_id))
                )
                citations = self.paragraphs(record)
            except BackendError as exc:
                # The answer is complete; losing its sources is no reason to withhold it.
                log.warning("%s: no sources for record %s: %s", self.name, record_id, exc)
        return Answer(
            text=text if found else "",
            citations=citations,
            found=found,
            conversation_id=chat_id,
            metadata={"message_id": record_id, "chat_id": chat_id} if record_id else {},
        )

    def paragraphs(self, record: Any) -> list[Citation]:
        """Citations from a chat record: its ``paragraph_list`` and the paragraphs of its
        knowledge-search nodes (v1 names knowledge bases ``dataset``, v2 ``knowledge``)."""
        if not isinstance(record, dict):
            return []
        items = list(record.get("paragraph_list") or [])
        for node in record.get("execution_details") or []:
            if isinstance(node, dict) and node.get("type") in SEARCH_NODES:
                items += node.get("paragraph_list") or []
        citations, seen = [], set()
        for item in items:
            if not isinstance(item, dict) or item.get("id") in seen:
                continue
            seen.add(item.get("id"))
            meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
            knowledge_id = item.get("knowledge_id") or item.get("dataset_id")
            knowledge_name = item.get("knowledge_name") or item.get("dataset_name")
            citations.append(
                Citation(
                    title=text_of(item.get("document_name"))
                    or text_of(item.get("title"))
                    or text_of(knowledge_name),
                    url=source_url(
                        self.options,
                        meta.get("source_url"),
                        (knowledge_id, knowledge_name),
                        item.get("document_name"),
                        item.get("document_id"),
                    ),
                    snippet=text_of(item.get("content")),
                    score=score_of(item.get("similarity")),
                )
            )
        return citations

    async def feedback(self, record: FeedbackRecord, helpful: bool, comment: str) -> None:
        """Forward a rating as MaxKB's vote on the chat record (``"0"`` up, ``"1"`` down);
        MaxKB keeps no comment with it."""
        record_id = record.metadata.get("message_id")
        chat_id = record.metadata.get("chat_id")
        if not (isinstance(record_id, str) and record_id and isinstance(chat_id, str)):
            return
        reply = await self.request_json(
            "PUT", self.vote_path(chat_id, record_id), json={"vote_status": "0" if helpful else "1"}
        )
        self.unwrap(reply)

    def unwrap(self, reply: Any) -> Any:
        if not isinstance(reply, dict) or reply.get("code") != 200:
            raise self.refusal(reply)
        return reply.get("data")

    def http_error(self, response: httpx.Response, body: bytes) -> BackendError:
        error = super().http_error(response, body)
        try:
            payload = self.parse_json(body)
        except BackendError:
            return error
        if isinstance(payload, dict):
            refused = response.status_code in (401, 403) or payload.get("code") in REFUSED_CODES
            message = text_of(payload.get("message"))[:200]
            return BackendError(
                f"{self.name}: HTTP {response.status_code} {payload.get('code')} {message}",
                retryable=error.retryable and not refused,
                status=response.status_code,
            )
        return error

    def refusal(self, body: Any) -> BackendError:
        # HTTP 200 with a failure code: MaxKB's unexpected exceptions come so (code 500), and
        # so do its validation errors, which the gateway's well-formed requests do not cause.
        code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else str(body)[:200]
        return BackendError(f"{self.name}: {code} {message}", retryable=code not in REFUSED_CODES)
