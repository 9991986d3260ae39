"""A FastGPT application: ``POST {base_url}/v1/chat/completions`` with ``detail: true``.

The base URL ends in ``/api`` and the key is the application's own (``fastgpt-…``). FastGPT
keeps the conversation under the ``chatId`` the caller chooses, so only the new question is
sent, and names the answer's chat item after the ``responseChatItemId`` the caller chooses (the
item a rating is given to). Every question is streamed, also when the gateway wants the answer
whole: unstreamed, an app with a reasoning model, tools or several reply nodes answers an
*array* of parts where the text would be.

With ``detail`` the stream is named events: ``answer``/``fastAnswer`` carry OpenAI-style chunks
(``reasoning_content`` is never shown) and end with ``data: [DONE]``; **after** that comes
``flowResponses``, the list of workflow node results whose ``quoteList`` entries are the
citations and whose ``errorText`` says a node failed; ``error`` frames end the stream with a
failure, with HTTP 200 — and, when FastGPT refused the request before its workflow started (a
wrong key), without the ``text/event-stream`` content type.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic import Field

from gateway.backends.base import Answer, BackendError, Citation, Delta, Done, Event, Query
from gateway.backends.openai import chunk_text
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

ANSWER_EVENTS = {"answer", "fastAnswer"}
#: FastGPT's codes for a request it will refuse again: no permission, a wrong key
#: (packages/global/common/error/errorCode.ts). Others (510: the team's points are used up,
#: plain messages from a failing model) are its failures, worth another back end.
REFUSALS = {403, 511, 512, 513, 514, 515}


class FastGPTOptions(EngineOptions):
    #: Ends in ``/api`` (``https://fastgpt.example.gov.cn/api``).
    base_url: str
    #: Values of the workflow's variables.
    variables: dict[str, Any] = Field(default_factory=dict)
    #: The ``chatId`` of a new conversation is this prefix plus the gateway's session id.
    chat_id_prefix: str = "gov-"
    #: The application's id (its address in FastGPT's console): needed to forward residents'
    #: ratings to FastGPT's feedback API; without it ratings stay in the gateway.
    app_id: str = ""


class FastGPTBackend(RemoteBackend):
    type = "fastgpt"
    follows_conversation = True
    uses_language_model = True
    Options = FastGPTOptions
    options: FastGPTOptions
    path = "/v1/chat/completions"

    def chat_id(self, query: Query) -> str:
        return query.conversation_id or self.options.chat_id_prefix + (query.session_id or "x")

    def body(self, query: Query, item_id: str) -> dict[str, Any]:
        return {
            "chatId": self.chat_id(query),
            "stream": True,
            "detail": True,
            "responseChatItemId": item_id,
            "variables": self.options.variables,
            "messages": [{"role": "user", "content": query.text}],
        }

    async def stream(self, query: Query) -> AsyncIterator[Event]:
        item_id = uuid.uuid4().hex[:24]
        parts: list[str] = []
        done = False
        nodes: list[Any] = []
        last_kind = ""
        async with self.open_stream(self.path, self.body(query, item_id)) as response:
            async for event in self.untyped_events(response):
                kind = event.event
                if kind == "error":
                    raise self._error(_json_or_text(event.data))
                if kind in ANSWER_EVENTS or (kind == "message" and not done):
                    if event.data.strip() == "[DONE]":
                        done = True  # the node results are still to come
                        continue
                    piece = chunk_text(data_of(self, event))
                    if piece:
                        # Each reply node's text is its own paragraph.
                        if parts and kind != last_kind:
                            piece = "\n\n" + piece
                        last_kind = kind
                        parts.append(piece)
                        yield Delta(piece)
                elif kind == "flowResponses":
                    flow = data_of(self, event)
                    nodes = flow if isinstance(flow, list) else []
        if not done:
            raise BackendError(f"{self.name}: the stream ended before [DONE]")
        failed = [text_of(node.get("errorText")) for node in nodes if isinstance(node, dict)]
        failed = [error for error in failed if error]
        text = "".join(parts).strip()
        if failed and not text:
            raise BackendError(f"{self.name}: a workflow node failed: {failed[0][:200]}")
        self._count(nodes)
        yield Done(self._answer(query, text, nodes, item_id))

    def _answer(self, query: Query, text: str, nodes: list[Any], item_id: str) -> Answer:
        found = bool(text) and not empty_reply(self.options, query, text)
        chat_id = self.chat_id(query)
        return Answer(
            text=text if found else "",
            citations=quotes(self.options, nodes),
            found=found,
            conversation_id=chat_id,
            metadata={"message_id": item_id, "chat_id": chat_id},
        )

    def _count(self, nodes: list[Any]) -> None:
        # FastGPT's own usage is a dummy (1 token); the nodes report what their models used.
        prompt = completion = 0
        for node in nodes:
            if isinstance(node, dict):
                prompt += _number(node.get("inputTokens"))
                completion += _number(node.get("outputTokens"))
        self.count_usage({"prompt_tokens": prompt, "completion_tokens": completion})

    async def feedback(self, record: FeedbackRecord, helpful: bool, comment: str) -> None:
        """Forward a rating to FastGPT's chat feedback (``updateUserFeedback``, keyed by the
        chat item the answer was saved as)."""
        item_id = record.metadata.get("message_id")
        chat_id = record.metadata.get("chat_id")
        if not (self.options.app_id and isinstance(item_id, str) and isinstance(chat_id, str)):
            return
        rating = {"userGoodFeedback": "yes"} if helpful else {"userBadFeedback": comment or "no"}
        reply = await self.post_json(
            "/core/chat/feedback/updateUserFeedback",
            {"appId": self.options.app_id, "chatId": chat_id, "dataId": item_id, **rating},
        )
        if not isinstance(reply, dict) or reply.get("code") != 200:
            raise self._error(reply)

    def http_error(self, response: httpx.Response, body: bytes) -> BackendError:
        # jsonRes answers every failure with HTTP 500; the code inside tells them apart.
        payload = _json_or_text(body.decode("utf-8", "replace"))
        if isinstance(payload, dict) and "code" in payload:
            return self._error(payload, response.status_code)
        return super().http_error(response, body)

    def refusal(self, body: Any) -> BackendError:
        return self._error(body)

    def _error(self, payload: Any, status: int | None = None) -> BackendError:
        code = payload.get("code") if isinstance(payload, dict) else None
        message = payload.get("message") if isinstance(payload, dict) else payload
        return BackendError(
            f"{self.name}: {code or ''} {str(message)[:200]}".strip(),
            retryable=code not in REFUSALS,
            status=status,
        )


def quotes(options: EngineOptions, nodes: list[Any]) -> list[Citation]:
    """Citations from the ``quoteList`` of the node results, knowledge-base search first."""
    ordered = sorted(
        (node for node in nodes if isinstance(node, dict)),
        key=lambda node: node.get("moduleType") != "datasetSearchNode",
    )
    citations: list[Citation] = []
    seen: set[str] = set()
    for node in ordered:
        for quote in node.get("quoteList") or []:
            if not isinstance(quote, dict) or str(quote.get("id")) in seen:
                continue
            seen.add(str(quote.get("id")))
            question, answer = text_of(quote.get("q")), text_of(quote.get("a"))
            citations.append(
                Citation(
                    title=text_of(quote.get("sourceName")) or question,
                    url=source_url(
                        options,
                        quote.get("sourceId"),
                        (quote.get("datasetId"),),
                        quote.get("sourceName"),
                        quote.get("collectionId"),
                    ),
                    snippet="\n".join(part for part in (question, answer) if part),
                    score=_score(quote.get("score")),
                )
            )
    return citations


def _score(value: Any) -> float | None:
    # FastGPT 4.x gives a list of scores by kind: [{"type": "embedding", "value": …}].
    if isinstance(value, list) and value and isinstance(value[0], dict):
        value = value[0].get("value")
    return score_of(value)


def _number(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _json_or_text(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data
