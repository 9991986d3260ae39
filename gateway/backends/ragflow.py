"""A RAGFlow chat assistant, through its OpenAI-compatible endpoint with references:
``POST {base_url}/api/v1/{endpoint}/{chat_id}/chat/completions`` (``chats_openai`` up to 0.24,
``openai`` from 0.25, which still forwards the old path).

Every question is streamed, with ``stream: true`` said explicitly (up to 0.25 RAGFlow streams
when it is absent, the newest does not), and references are asked for both ways RAGFlow reads
them: a top-level ``reference: true`` (0.20–0.22) and ``extra_body.reference`` (0.23 on). The
stream is OpenAI chunks written ``data:{…}``; the **final** chunk (``finish_reason: "stop"``)
holds ``delta.reference`` — a *list* of the retrieved chunks, which the answer cites by
position as ``[ID:n]`` (models also write ``【ID:n】``, ``(ID:n)``, ``refN``, older releases
``##n$$``) — and ``delta.final_content``. The markers are taken out of the text and the cited
chunks become the citations.

RAGFlow puts its failures in the text: a content chunk ``**ERROR**: …`` (never shown, the
engine failed). RAGFlow 0.25 repeats the whole answer as the stream's last content chunk; one
chunk is held back until the next arrives so that the repeat, equal to ``final_content``, is
dropped. Refusals come as HTTP 200 with a JSON ``{code, message}`` (up to 0.22: a wrong key is
code 109) or, from 0.25, as HTTP 401.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from gateway.backends.base import Answer, Backend, BackendError, Citation, Delta, Done, Event, Query
from gateway.backends.openai import OpenAIBackend, OpenAIOptions, TextFilter, ThinkFilter
from gateway.backends.remote import (
    EngineOptions,
    data_of,
    empty_reply,
    score_of,
    source_url,
    text_of,
)

_ID = r"\s*ID\s*[: ]*\s*(\d+)\s*"
#: RAGFlow's citation markers (api/db/services/dialog_service.py: ``[ID:n]`` and the formats
#: ``repair_bad_citation_formats`` knows; ``##n$$`` from older releases).
MARKER = re.compile(
    rf" ?(?:\[{_ID}\]|【{_ID}】|\({_ID}\)|##(\d+)\$\$|(?<![A-Za-z])(?i:ref)\s*(\d+))"
)
_PARTIAL_ID = r"(?:\s*I(?:D\s*[: ]*\s*\d*\s*)?)?"
#: The end of a text that may be (the start of) a marker the next piece completes (a space
#: too: it goes with a marker that may follow).
PARTIAL_MARKER = re.compile(
    rf" ?(?:\[{_PARTIAL_ID}|【{_PARTIAL_ID}|\({_PARTIAL_ID}|#(?:#\d*\$?)?"
    r"|(?<![A-Za-z])(?i:r(?:e(?:f\s*\d*)?)?))?$"
)
#: What RAGFlow writes into the answer when the model failed.
FAILURE_PREFIX = "**ERROR**"
#: RAGFlow's codes for its own failures (exception, connection), worth another back end;
#: the others (argument, data, authentication: 101, 102, 109, 401 …) are refusals.
RETRYABLE_CODES = {100, 105, 500}


class RagflowOptions(OpenAIOptions, EngineOptions):
    #: The RAGFlow server, e.g. ``http://ragflow.example.gov.cn`` (without ``/api``).
    base_url: str
    #: The chat assistant's id.
    chat_id: str
    #: ``chats_openai`` (up to 0.24, still served by 0.25) or ``openai`` (0.25 on).
    endpoint: Literal["chats_openai", "openai"] = "chats_openai"
    #: RAGFlow uses the assistant's own model when sent ``model`` (the placeholder).
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
        body = super().body(messages, stream=True)
        body["stream"] = True
        body["reference"] = True
        body["extra_body"] = {**body.get("extra_body", {}), "reference": True}
        return body

    def text_filter(self) -> TextFilter:
        return Chain(ThinkFilter(), MarkerFilter())

    async def ask(self, query: Query) -> Answer:
        return await Backend.ask(self, query)  # the stream, collected

    def stream(self, query: Query) -> AsyncIterator[Event]:
        return self._stream(query)

    async def _stream(self, query: Query) -> AsyncIterator[Event]:
        visible = self.text_filter()
        raw: list[str] = []  # as RAGFlow wrote it, markers and all
        shown: list[str] = []
        held: str | None = None
        final: dict[str, Any] = {}

        def show(piece: str) -> Iterator[Delta]:
            raw.append(piece)
            text = visible.feed(piece)
            if text:
                shown.append(text)
                yield Delta(text)

        body = self.body(self.messages(query), stream=True)
        async with self.open_stream(self.path, body) as response:
            async for event in self.events(response):
                data = event.data.strip()
                if data == "[DONE]":
                    break
                if not data:
                    continue
                chunk = data_of(self, event)
                if not isinstance(chunk, dict):
                    continue
                if "code" in chunk and not chunk.get("choices"):
                    raise self.refusal(chunk)
                choice = (chunk.get("choices") or [{}])[0]
                delta = choice.get("delta") or {}
                if choice.get("finish_reason") == "stop":
                    final = delta
                    self.count_usage(chunk.get("usage"))
                    continue
                piece = text_of(delta.get("content"))
                if piece.startswith(FAILURE_PREFIX):
                    raise BackendError(f"{self.name}: the engine failed: {piece[:200]}")
                if not piece:
                    continue
                if held is not None:
                    for out in show(held):
                        yield out
                held = piece
            else:
                raise BackendError(f"{self.name}: the stream ended before [DONE]")
        # 0.25 repeats the whole answer as its last piece; the final chunk says what it is.
        if held is not None and not (raw and held == text_of(final.get("final_content"))):
            for out in show(held):
                yield out
        tail = visible.feed("", final=True)
        if tail:
            shown.append(tail)
            yield Delta(tail)
        yield Done(self._answer(query, "".join(shown).strip(), "".join(raw), final))

    def _answer(self, query: Query, text: str, raw: str, final: dict[str, Any]) -> Answer:
        found = bool(text) and not empty_reply(self.options, query, text)
        return Answer(
            text=text if found else "",
            citations=references(self.options, final.get("reference"), cited(raw)) if found else [],
            found=found,
        )

    def refusal(self, body: Any) -> BackendError:
        code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else str(body)[:200]
        return BackendError(f"{self.name}: {code} {message}", retryable=code in RETRYABLE_CODES)


def cited(text: str) -> list[int]:
    """The chunk positions ``text`` cites, in order of first mention."""
    numbers: list[int] = []
    for match in MARKER.finditer(text):
        number = int(next(group for group in match.groups() if group is not None))
        if number not in numbers:
            numbers.append(number)
    return numbers


def references(options: EngineOptions, reference: Any, numbers: list[int]) -> list[Citation]:
    """Citations from the final chunk's reference list: the chunks the answer cites, or all
    of them when it cites none. (RAGFlow's native API gives ``{chunks: …}``; read it too.)"""
    if isinstance(reference, dict):
        reference = reference.get("chunks") or []
    items = (
        [item for item in reference if isinstance(item, dict)]
        if isinstance(reference, list)
        else []
    )
    picked = [items[n] for n in numbers if 0 <= n < len(items)] or items
    return [
        Citation(
            title=text_of(item.get("document_name")) or text_of(item.get("doc_name")),
            url=source_url(
                options,
                item.get("url"),
                (item.get("dataset_id"),),
                item.get("document_name"),
                item.get("document_id"),
            ),
            snippet=text_of(item.get("content")),
            score=score_of(item.get("similarity")),
        )
        for item in picked
    ]


class MarkerFilter:
    """Removes RAGFlow's inline citation markers from text arriving in pieces."""

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, piece: str, final: bool = False) -> str:
        text, self._pending = self._pending + piece, ""
        if not final:
            partial = PARTIAL_MARKER.search(text)
            if partial:
                text, self._pending = text[: partial.start()], text[partial.start() :]
        return MARKER.sub("", text)


class Chain:
    def __init__(self, *filters: TextFilter) -> None:
        self.filters = filters

    def feed(self, piece: str, final: bool = False) -> str:
        for text_filter in self.filters:
            piece = text_filter.feed(piece, final)
        return piece
