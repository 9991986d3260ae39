"""A Dify chat, agent or chatflow application: ``POST {base_url}/chat-messages``.

The base URL is the application's "API server" address, ending in ``/v1``. Every question is
streamed (``response_mode: streaming``), also when the gateway wants the answer whole: Agent
applications refuse blocking mode (HTTP 400), and one way of reading replies is one way of
failing. Streamed replies are ``data: {"event": …}`` lines: ``message``/``agent_message`` carry
pieces of the answer, ``message_replace`` replaces it (output moderation), ``message_end``
brings ``metadata.retriever_resources`` (the citations) and ``metadata.usage``, ``error`` ends
it with a failure, and ``event: ping`` lines keep the connection alive; chatflow apps add
``workflow_*``/``node_*`` events, agents ``agent_thought``, which are skipped.

Dify keeps the conversation itself: the gateway sends back the ``conversation_id`` Dify gave the
session's earlier answer, and the session id (prefixed) as ``user``. After an answer, Dify's
suggested next questions (``GET /messages/{id}/suggested``) become the answer's suggestions;
a resident's rating goes to ``POST /messages/{id}/feedbacks``.

Dify reports a failing model as HTTP 400 ``completion_request_error`` (and the other provider
errors as 400 too): those are the engine's failures, worth another back end, where a 400
``invalid_param`` or a 401 is a refusal that another try would meet again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
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

TEXT_EVENTS = {"message", "agent_message"}
#: Error codes Dify gives with status 400 that are its own failures (the model or its provider
#: failed, the app is broken), not a bad request: another back end may answer (Dify's
#: api/core/app/apps/base_app_generate_response_converter.py and
#: api/controllers/service_api/app/error.py).
ENGINE_FAILURES = {
    "completion_request_error",
    "provider_not_initialize",
    "provider_quota_exceeded",
    "model_currently_not_support",
    "app_unavailable",
    "internal_server_error",
}


class DifyOptions(EngineOptions):
    #: The API server address, ending in ``/v1`` (``https://dify.example.gov.cn/v1``).
    base_url: str
    #: Values of the application's input variables.
    inputs: dict[str, Any] = Field(default_factory=dict)
    #: Dify's ``user`` is this prefix plus the gateway's session id.
    user_prefix: str = "gov-assistant-"
    #: Ask for Dify's suggested next questions after each answer (the app's "follow-up"
    #: feature must be on; when it is off, Dify says so and the answer has none).
    suggestions: bool = True
    #: Seconds to wait for the suggestions (Dify asks its model for them) before giving up.
    suggestions_timeout: float = Field(5.0, gt=0)


class DifyBackend(RemoteBackend):
    type = "dify"
    follows_conversation = True
    uses_language_model = True
    Options = DifyOptions
    options: DifyOptions

    def user(self, query: Query) -> str:
        return self.options.user_prefix + (query.session_id or "anonymous")

    def body(self, query: Query, conversation_id: str) -> dict[str, Any]:
        return {
            "query": query.text,
            "inputs": self.options.inputs,
            "response_mode": "streaming",
            "user": self.user(query),
            "conversation_id": conversation_id,
            "auto_generate_name": False,
        }

    async def stream(self, query: Query) -> AsyncIterator[Event]:
        try:
            async for event in self._stream(query, query.conversation_id):
                yield event
        except BackendError as exc:
            # Dify forgets conversations (deleted, or another app): start a new one. Nothing
            # has been sent yet when Dify refuses the id: it answers 404 before streaming.
            if not (exc.status == 404 and query.conversation_id):
                raise
            async for event in self._stream(query, ""):
                yield event

    async def _stream(self, query: Query, conversation_id: str) -> AsyncIterator[Event]:
        text = ""
        async with self.open_stream("/chat-messages", self.body(query, conversation_id)) as reply:
            async for event in self.events(reply):
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
                    metadata = payload.get("metadata") or {}
                    self.count_usage(metadata.get("usage"))
                    message_id = text_of(payload.get("message_id") or payload.get("id"))
                    yield Done(
                        await self._answer(query, text, metadata, conversation_id, message_id)
                    )
                    return
                elif kind == "error":
                    raise self._error(payload, payload.get("status"))
        raise BackendError(f"{self.name}: the stream ended before message_end")

    async def _answer(
        self,
        query: Query,
        text: str,
        metadata: dict[str, Any],
        conversation_id: str,
        message_id: str,
    ) -> Answer:
        text = text.strip()
        found = bool(text) and not empty_reply(self.options, query, text)
        return Answer(
            text=text if found else "",
            citations=self._citations(metadata.get("retriever_resources") or []),
            found=found,
            suggestions=await self._suggestions(query, message_id) if found else [],
            conversation_id=conversation_id if isinstance(conversation_id, str) else "",
            metadata={"message_id": message_id, "user": self.user(query)} if message_id else {},
        )

    def _citations(self, resources: list[Any]) -> list[Citation]:
        return [
            Citation(
                title=text_of(item.get("document_name")) or text_of(item.get("dataset_name")),
                # Dify gives no link; the operator may configure one per knowledge base.
                url=source_url(
                    self.options,
                    item.get("url"),
                    (item.get("dataset_id"), item.get("dataset_name")),
                    item.get("document_name"),
                    item.get("document_id"),
                ),
                snippet=text_of(item.get("content")),
                score=score_of(item.get("score")),
            )
            for item in sorted(
                (item for item in resources if isinstance(item, dict)),
                key=lambda item: item.get("position") or 0,
            )
        ]

    async def _suggestions(self, query: Query, message_id: str) -> list[str]:
        if not (self.options.suggestions and message_id):
            return []
        try:
            reply = await self.request_json(
                "GET",
                f"/messages/{message_id}/suggested",
                params={"user": self.user(query)},
                timeout=self.options.suggestions_timeout,
            )
        except BackendError as exc:
            # The answer is complete; no suggestions (the feature is off, or slow) is no
            # reason to withhold it.
            log.info("%s: no suggested questions: %s", self.name, exc)
            return []
        questions = reply.get("data") if isinstance(reply, dict) else None
        return [item for item in questions or [] if isinstance(item, str) and item.strip()]

    async def feedback(self, record: FeedbackRecord, helpful: bool, comment: str) -> None:
        """Forward a resident's rating to Dify's message feedback (shown in its logs)."""
        message_id = record.metadata.get("message_id")
        user = record.metadata.get("user")
        if not (isinstance(message_id, str) and message_id and isinstance(user, str)):
            return
        await self.post_json(
            f"/messages/{message_id}/feedbacks",
            {"rating": "like" if helpful else "dislike", "user": user, "content": comment},
        )

    def http_error(self, response: httpx.Response, body: bytes) -> BackendError:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and "code" in payload:
            return self._error(payload, response.status_code)
        return super().http_error(response, body)

    def _error(self, payload: dict[str, Any], status: Any) -> BackendError:
        code = payload.get("code")
        status = status if isinstance(status, int) else None
        retryable = status is None or status == 429 or status >= 500 or code in ENGINE_FAILURES
        return BackendError(
            f"{self.name}: {code}: {text_of(payload.get('message'))[:200]}",
            retryable=retryable,
            status=status,
        )
