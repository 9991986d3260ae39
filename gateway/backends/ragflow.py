"""A RAGFlow chat assistant, through its OpenAI-compatible endpoint with references:
``POST {base_url}/api/v1/chats_openai/{chat_id}/chat/completions`` (``openai`` in newer
releases) with ``extra_body: {"reference": true}``.

The stream is OpenAI chunks; the **final** chunk's ``delta.reference`` (``message.reference``
without streaming) holds ``chunks`` — the retrieved passages, keyed by the numbers the answer
cites inline as ``[ID:n]`` (older: ``##n$$``). The markers are taken out of the text and the
passages become the citations. RAGFlow answers some refusals with HTTP 200 and a JSON
``{code, message}`` body instead of a stream.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from gateway.backends.base import Answer, BackendError, Citation
from gateway.backends.openai import OpenAIBackend, OpenAIOptions, TextFilter, ThinkFilter
from gateway.backends.remote import http_url, score_of, text_of

MARKER = re.compile(r" ?(?:\[ID:\d+\]|##\d+\$\$)")
#: The end of a text that may be the start of a marker completed by the next piece.
PARTIAL_MARKER = re.compile(r" ?(?:\[(?:I(?:D(?::\d*)?)?)?|#(?:#\d*\$?)?)?$")
#: RAGFlow's codes for its own failures (exception, connection), worth another back end.
RETRYABLE_CODES = {100, 105, 500}


class RagflowOptions(OpenAIOptions):
    #: The RAGFlow server, e.g. ``http://ragflow.example.gov.cn`` (without ``/api``).
    base_url: str
    #: The chat assistant's id.
    chat_id: str
    #: ``chats_openai`` (up to 0.24) or ``openai`` (its newer name).
    endpoint: Literal["chats_openai", "openai"] = "chats_openai"
    #: RAGFlow uses the assistant's own model whatever is sent.
    model: str = "model"
    #: The assistant has its own prompt.
    system_prompt: str = ""


class RagflowBackend(OpenAIBackend):
    type = "ragflow"
    Options = RagflowOptions  # type: ignore[assignment]
    options: RagflowOptions

    @property
    def path(self) -> str:  # type: ignore[override]
        return f"/api/v1/{self.options.endpoint}/{self.options.chat_id}/chat/completions"

    def body(self, messages: Any, stream: bool) -> dict[str, Any]:
        body = super().body(messages, stream)
        body["extra_body"] = {**body.get("extra_body", {}), "reference": True}
        return body

    def text_filter(self) -> TextFilter:
        return Chain(ThinkFilter(), MarkerFilter())

    def finish(self, text: str, message: dict[str, Any]) -> Answer:
        return Answer(
            text=text.strip(), citations=references(message.get("reference")), found=bool(text)
        )

    def refusal(self, body: Any) -> BackendError:
        code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else str(body)[:200]
        return BackendError(f"{self.name}: {code} {message}", retryable=code in RETRYABLE_CODES)

    async def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        reply = await super().request_json(method, url, **kwargs)
        if isinstance(reply, dict) and "code" in reply and not reply.get("choices"):
            raise self.refusal(reply)
        return reply


def references(reference: Any) -> list[Citation]:
    """Citations from ``reference.chunks`` (a mapping by citation number, or a list)."""
    if not isinstance(reference, dict):
        return []
    chunks = reference.get("chunks") or {}
    if isinstance(chunks, dict):
        items = [chunks[key] for key in sorted(chunks, key=_number)]
    else:
        items = list(chunks)
    return [
        Citation(
            title=text_of(item.get("document_name")) or text_of(item.get("doc_name")),
            url=http_url(item.get("url")),
            snippet=text_of(item.get("content")),
            score=score_of(item.get("similarity")),
        )
        for item in items
        if isinstance(item, dict)
    ]


def _number(key: Any) -> tuple[int, str]:
    text = str(key)
    return (int(text), text) if text.isdigit() else (1 << 30, text)


class MarkerFilter:
    """Removes RAGFlow's inline citation markers from text arriving in pieces."""

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, piece: str, final: bool = False) -> str:
        text = MARKER.sub("", self._pending + piece)
        self._pending = ""
        if not final:
            partial = PARTIAL_MARKER.search(text)
            if partial:
                self._pending = text[partial.start() :]
                return text[: partial.start()]
        return text


class Chain:
    def __init__(self, *filters: TextFilter) -> None:
        self.filters = filters

    def feed(self, piece: str, final: bool = False) -> str:
        for text_filter in self.filters:
            piece = text_filter.feed(piece, final)
        return piece
