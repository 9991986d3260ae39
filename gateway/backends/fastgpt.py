"""A FastGPT application: ``POST {base_url}/v1/chat/completions`` with ``detail: true``.

The base URL ends in ``/api`` and the key is the application's own (``fastgpt-…``). FastGPT
keeps the conversation under the ``chatId`` the caller chooses, so only the new question is
sent. With ``detail`` the stream is named events: ``answer``/``fastAnswer`` carry OpenAI-style
chunks and end with ``data: [DONE]``; **after** that comes ``flowResponses``, the list of
workflow node results whose ``quoteList`` entries (from the knowledge-base search node) are the
citations; ``error`` ends the stream with a failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pydantic import Field

from gateway.backends.base import Answer, BackendError, Citation, Delta, Done, Event, Query
from gateway.backends.openai import chunk_text
from gateway.backends.remote import (
    RemoteBackend,
    RemoteOptions,
    data_of,
    http_url,
    score_of,
    text_of,
)

ANSWER_EVENTS = {"answer", "fastAnswer"}


class FastGPTOptions(RemoteOptions):
    #: Ends in ``/api`` (``https://fastgpt.example.gov.cn/api``).
    base_url: str
    #: Values of the workflow's variables.
    variables: dict[str, Any] = Field(default_factory=dict)
    #: The ``chatId`` of a new conversation is this prefix plus the gateway's session id.
    chat_id_prefix: str = "gov-"


class FastGPTBackend(RemoteBackend):
    type = "fastgpt"
    follows_conversation = True
    uses_language_model = True
    Options = FastGPTOptions
    options: FastGPTOptions
    path = "/v1/chat/completions"

    def chat_id(self, query: Query) -> str:
        return query.conversation_id or self.options.chat_id_prefix + (query.session_id or "x")

    def body(self, query: Query, stream: bool) -> dict[str, Any]:
        return {
            "chatId": self.chat_id(query),
            "stream": stream,
            "detail": True,
            "variables": self.options.variables,
            "messages": [{"role": "user", "content": query.text}],
        }

    async def ask(self, query: Query) -> Answer:
        reply = await self.post_json(self.path, self.body(query, stream=False))
        choices = reply.get("choices") or []
        if not choices:
            raise BackendError(f"{self.name}: a reply without choices: {str(reply)[:200]}")
        text = text_of((choices[0].get("message") or {}).get("content"))
        return self._answer(query, text, reply.get("responseData") or [])

    async def stream(self, query: Query) -> AsyncIterator[Event]:
        parts: list[str] = []
        done = False
        nodes: list[Any] = []
        async with self.open_stream(self.path, self.body(query, stream=True)) as response:
            async for event in self.events(response):
                if event.event in ANSWER_EVENTS or (event.event == "message" and not done):
                    if event.data.strip() == "[DONE]":
                        done = True  # the node results are still to come
                        continue
                    piece = chunk_text(data_of(self, event))
                    if piece:
                        parts.append(piece)
                        yield Delta(piece)
                elif event.event == "flowResponses":
                    flow = data_of(self, event)
                    nodes = flow if isinstance(flow, list) else []
                elif event.event == "error":
                    raise BackendError(f"{self.name}: {event.data[:200]}")
        if not done:
            raise BackendError(f"{self.name}: the stream ended before [DONE]")
        yield Done(self._answer(query, "".join(parts), nodes))

    def _answer(self, query: Query, text: str, nodes: list[Any]) -> Answer:
        return Answer(
            text=text.strip(),
            citations=quotes(nodes),
            found=bool(text.strip()),
            conversation_id=self.chat_id(query),
        )


def quotes(nodes: list[Any]) -> list[Citation]:
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
                    url=http_url(quote.get("sourceId")),
                    snippet="\n".join(part for part in (question, answer) if part),
                    score=_score(quote.get("score")),
                )
            )
    return citations


def _score(value: Any) -> float | None:
    # Newer FastGPT versions give a list of scores by kind: [{"type": "embedding", "value": …}].
    if isinstance(value, list) and value and isinstance(value[0], dict):
        value = value[0].get("value")
    return score_of(value)
