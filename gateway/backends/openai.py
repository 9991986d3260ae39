"""Any OpenAI-compatible chat API: DeepSeek, Qwen (DashScope), vLLM, Ollama, LiteLLM …

``POST {base_url}/chat/completions`` with the conversation as ``messages``. Streamed replies
are Server-Sent Events of ``chat.completion.chunk`` objects ending with ``data: [DONE]``; a
usage chunk may come last with ``choices`` empty (OpenAI) or null (some vLLM versions).
Reasoning (``reasoning_content``, or a leading ``<think>…</think>`` in the content) is never
shown to residents.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from pydantic import Field

from gateway.backends.base import Answer, BackendError, Delta, Done, Event, Query
from gateway.backends.remote import RemoteBackend, RemoteOptions, data_of

DEFAULT_SYSTEM_PROMPT = (
    "你是政务服务智能助手，为居民解答政务办事问题。回答要准确、简洁、通俗易懂；"
    "不确定的内容请如实说明，并建议拨打政务服务便民热线咨询。"
)

Message = dict[str, str]


class OpenAIOptions(RemoteOptions):
    #: Ends with ``/v1`` (``https://api.deepseek.com/v1``, ``http://vllm:8000/v1``).
    base_url: str
    model: str
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    #: Ask for the usage chunk at the end of a stream (``stream_options.include_usage``).
    include_usage: bool = False
    #: Send earlier turns of the conversation as messages.
    history: bool = True
    #: Anything else the server accepts, merged into the request body.
    extra_body: dict[str, Any] = Field(default_factory=dict)


class OpenAIBackend(RemoteBackend):
    type = "openai"
    follows_conversation = True
    uses_language_model = True
    Options = OpenAIOptions
    options: OpenAIOptions
    path = "/chat/completions"

    def messages(self, query: Query, system_prompt: str | None = None) -> list[Message]:
        system = self.options.system_prompt if system_prompt is None else system_prompt
        messages = [{"role": "system", "content": system}] if system else []
        if self.options.history:
            messages += [{"role": turn.role, "content": turn.content} for turn in query.history]
        messages.append({"role": "user", "content": query.text})
        return messages

    def body(self, messages: Sequence[Message], stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.options.model, "messages": list(messages)}
        if stream:
            body["stream"] = True
            if self.options.include_usage:
                body["stream_options"] = {"include_usage": True}
        if self.options.temperature is not None:
            body["temperature"] = self.options.temperature
        if self.options.max_tokens is not None:
            body["max_tokens"] = self.options.max_tokens
        return {**body, **self.options.extra_body}

    async def ask(self, query: Query) -> Answer:
        return await self.complete(self.messages(query))

    def stream(self, query: Query) -> AsyncIterator[Event]:
        return self.complete_stream(self.messages(query))

    async def complete(self, messages: Sequence[Message]) -> Answer:
        reply = await self.post_json(self.path, self.body(messages, stream=False))
        message = _first_choice(self, reply).get("message") or {}
        self.count_usage(reply.get("usage"))
        content = message.get("content")
        text = self.text_filter().feed(content if isinstance(content, str) else "", final=True)
        return self.finish(text, message)

    async def complete_stream(self, messages: Sequence[Message]) -> AsyncIterator[Event]:
        parts: list[str] = []
        visible = self.text_filter()
        last: dict[str, Any] = {}
        async with self.open_stream(self.path, self.body(messages, stream=True)) as response:
            async for event in self.events(response):
                if event.data.strip() == "[DONE]":
                    break
                if not event.data:
                    continue
                chunk = data_of(self, event)
                _raise_for_error(self, chunk)
                if isinstance(chunk, dict):
                    # the usage chunk (include_usage); null in the others
                    self.count_usage(chunk.get("usage"))
                if isinstance(chunk, dict) and chunk.get("choices"):
                    last = chunk["choices"][0].get("delta") or {}
                piece = visible.feed(chunk_text(chunk))
                if piece:
                    parts.append(piece)
                    yield Delta(piece)
            else:
                raise BackendError(f"{self.name}: the stream ended before [DONE]")
        tail = visible.feed("", final=True)
        if tail:
            parts.append(tail)
            yield Delta(tail)
        yield Done(self.finish("".join(parts), last))

    def text_filter(self) -> TextFilter:
        """What of the model's text residents see (one filter per answer)."""
        return ThinkFilter()

    def finish(self, text: str, message: dict[str, Any]) -> Answer:
        """The answer from its whole text and the last message or delta received (subclasses
        read citations from it)."""
        return Answer(text=text.strip(), found=bool(text.strip()))


def chunk_text(chunk: Any) -> str:
    """The answer text in one ``chat.completion.chunk``; nothing from usage-only chunks
    (``choices`` empty or null) or reasoning."""
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    if not choices:
        return ""
    delta = choices[0].get("delta") or {}
    content = delta.get("content")
    return content if isinstance(content, str) else ""


def _first_choice(backend: RemoteBackend, reply: Any) -> dict[str, Any]:
    _raise_for_error(backend, reply)
    choices = reply.get("choices") if isinstance(reply, dict) else None
    if not choices or not isinstance(choices[0], dict):
        raise BackendError(f"{backend.name}: a reply without choices: {str(reply)[:200]}")
    return choices[0]


def _raise_for_error(backend: RemoteBackend, payload: Any) -> None:
    if isinstance(payload, dict) and payload.get("error"):
        error = payload["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise BackendError(f"{backend.name}: {message}")


class TextFilter(Protocol):
    def feed(self, piece: str, final: bool = False) -> str:
        """The part of ``piece`` (with what was held back before) that can be shown now;
        ``final``: nothing more will come."""
        ...


class ThinkFilter:
    """Drops a leading ``<think>…</think>`` block (reasoning models served without a reasoning
    parser put their reasoning there) from text that arrives in pieces."""

    OPEN, CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        self._pending = ""
        self._state = "start"  # start → thinking → text

    def feed(self, piece: str, final: bool = False) -> str:
        if self._state == "text":
            return piece
        self._pending += piece
        if self._state == "start":
            head = self._pending.lstrip()
            if not head and not final:
                return ""
            if head.startswith(self.OPEN):
                self._state = "thinking"
                self._pending = head[len(self.OPEN) :]
            elif self.OPEN.startswith(head) and not final:
                return ""  # could still become "<think>"
            else:
                self._state = "text"
                text, self._pending = self._pending, ""
                return text
        end = self._pending.find(self.CLOSE)
        if end == -1:
            return ""
        self._state = "text"
        text = self._pending[end + len(self.CLOSE) :].lstrip()
        self._pending = ""
        return text
