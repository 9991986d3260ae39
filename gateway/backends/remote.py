"""What every back end reached over HTTP shares: its base URL and key, the gateway's one HTTP
client (gateway/http.py), and one reading of replies, JSON and Server-Sent Events alike, that
turns every way a remote engine can fail into a :class:`BackendError`."""

from __future__ import annotations

import html
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import orjson
from httpx_sse import EventSource, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field

from gateway import metrics
from gateway.backends.base import Backend, BackendError, Health, Query
from gateway.http import check_status, create_client, transport_failure

log = logging.getLogger("gateway.backends")


class RemoteOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The engine's address, e.g. ``http://dify.internal`` (each type documents the form).
    base_url: str
    #: Name of the environment variable holding the API key (never the key itself).
    api_key_env: str = ""
    #: Extra HTTP headers sent with every request.
    headers: dict[str, str] = Field(default_factory=dict)


class EngineOptions(RemoteOptions):
    """What the four question-answering engines (Dify, FastGPT, MaxKB, RAGFlow) share."""

    #: The replies the engine's application gives when its knowledge base has nothing (MaxKB's
    #: designated answer, RAGFlow's ``empty_response``, a Dify/FastGPT "no knowledge" reply
    #: node), as configured there; ``{question}`` stands for any text. Such a reply is
    #: "not found": the route tries its next back end and the question is kept as unanswered.
    empty_replies: list[str] = Field(default_factory=list)
    #: Links for sources the engine gives without one: a URL template per knowledge base (its
    #: id or name; ``*`` for any), with ``{document_name}`` and ``{document_id}`` filled in.
    source_urls: dict[str, str] = Field(default_factory=dict)


class FeedbackRecord(Protocol):
    """What the gateway's feedback path hands an adapter: the rated answer's ``metadata``
    (where an adapter put the engine's own message id)."""

    @property
    def metadata(self) -> Mapping[str, Any]: ...


class RemoteBackend(Backend):
    """A back end behind an HTTP API. Subclasses implement ``ask``/``stream`` with
    :meth:`post_json` and :meth:`open_stream`."""

    options: RemoteOptions
    client: httpx.AsyncClient | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, httpx.URL] = {}

    @property
    def api_key(self) -> str:
        return os.environ.get(self.options.api_key_env, "") if self.options.api_key_env else ""

    def auth_headers(self) -> dict[str, str]:
        """How the key is sent; engines that want another header override this."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    async def startup(self) -> None:
        if self.client is not None:
            return
        if self.options.api_key_env and not self.api_key:
            log.warning(
                "back end %s: the environment variable %s is not set; sending no key",
                self.name,
                self.options.api_key_env,
            )
        self.client = create_client(
            self.services.settings.http,
            base_url=self.options.base_url.rstrip("/"),
            headers={**self.auth_headers(), **self.options.headers},
        )

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def health(self) -> Health:
        if self.options.api_key_env and not self.api_key:
            return Health(ok=False, detail=f"{self.options.api_key_env} is not set")
        return Health(ok=True, detail=self.options.base_url)

    def _client(self) -> httpx.AsyncClient:
        if self.client is None:
            raise BackendError(f"{self.name}: not started", retryable=True)
        return self.client

    def url(self, path: str) -> httpx.URL:
        """The absolute URL of ``path``, parsed once: httpx parses a text URL on every request,
        which measurably costs throughput (docs/benchmarks.md)."""
        parsed = self._urls.get(path)
        if parsed is None:
            parsed = self._client().base_url.join(path.lstrip("/"))
            if len(self._urls) < 64:  # paths with the question in them are not kept
                self._urls[path] = parsed
        return parsed

    # -- requests --------------------------------------------------------------------------

    async def request_json(self, method: str, url: str, json: Any = None, **kwargs: Any) -> Any:
        """The JSON reply to one request (with ``json`` its body)."""
        if json is not None:
            kwargs["content"], kwargs["headers"] = json_body(json, kwargs.get("headers"))
        try:
            response = await self._client().request(method, self.url(url), **kwargs)
        except httpx.HTTPError as exc:
            raise transport_failure(self.name, exc) from exc
        if response.status_code >= 400:
            raise self.http_error(response, response.content)
        return self.parse_json(response.content)

    async def post_json(self, url: str, body: Any) -> Any:
        return await self.request_json("POST", url, json=body)

    @asynccontextmanager
    async def open_stream(self, url: str, body: Any) -> AsyncIterator[httpx.Response]:
        """POST ``body`` and hold the reply open for reading as it arrives. Failures to
        connect or read, and error statuses, come out as ``BackendError``."""
        try:
            content, headers = json_body(body, STREAM_HEADERS)
            async with self._client().stream(
                "POST", self.url(url), content=content, headers=headers
            ) as response:
                if response.status_code >= 400:
                    raise self.http_error(response, await response.aread())
                yield response
        except httpx.HTTPError as exc:
            raise transport_failure(self.name, exc) from exc

    async def events(self, response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
        """The Server-Sent Events of a reply. A reply that is JSON instead (engines answer
        errors so even to streaming requests) is handed to :meth:`refusal`."""
        content_type = response.headers.get("content-type", "")
        if "text/event-stream" not in content_type:
            body = await response.aread()
            raise self.refusal(self.parse_json(body))
        async for event in EventSource(response).aiter_sse():
            yield event

    async def untyped_events(self, response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
        """The events of a reply that is Server-Sent Events whatever its content type says
        (FastGPT writes the error frames of a refused request before it sets the type)."""
        if "text/event-stream" in response.headers.get("content-type", ""):
            async for event in EventSource(response).aiter_sse():
                yield event
            return
        body = await response.aread()
        if body.lstrip()[:1] in (b"{", b"["):
            raise self.refusal(self.parse_json(body))
        typed = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
        async for event in EventSource(typed).aiter_sse():
            yield event

    def http_error(self, response: httpx.Response, body: bytes) -> BackendError:
        """The error an HTTP error status stands for; engines whose error bodies say more
        than the status (a model failure sent as 400) override this."""
        try:
            check_status(self.name, response, body)
        except BackendError as exc:
            return exc
        return BackendError(f"{self.name}: HTTP {response.status_code}")

    def count_usage(self, usage: Any) -> None:
        """Record the tokens an engine reports (``prompt_tokens``/``completion_tokens``)."""
        if isinstance(usage, Mapping):
            metrics.count_tokens(
                self.name, usage.get("prompt_tokens"), usage.get("completion_tokens")
            )

    def refusal(self, body: Any) -> BackendError:
        """The error a JSON body stands for where a stream was expected."""
        return BackendError(f"{self.name}: expected a stream, got {str(body)[:200]}")

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # what orjson refuses and Python reads: NaN, lone surrogates, huge integers
        try:
            return json.loads(data)
        except ValueError as exc:
            text = data[:120] if isinstance(data, str) else data[:120].decode("utf-8", "replace")
            raise BackendError(f"{self.name}: malformed JSON: {text!r}", retryable=True) from exc


#: The headers of a request for a stream (with its JSON body's).
STREAM_HEADERS = {"Accept": "text/event-stream"}
_JSON_HEADERS = {"Content-Type": "application/json"}


def json_body(body: Any, headers: Mapping[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    """``body`` as a request's JSON content, with its headers: orjson writes it in a
    twentieth of the time httpx's ``json=`` takes (the same compact UTF-8 JSON)."""
    return orjson.dumps(body), {**_JSON_HEADERS, **(headers or {})}


def data_of(backend: RemoteBackend, event: ServerSentEvent) -> Any:
    """The JSON payload of one event."""
    return backend.parse_json(event.data)


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def http_url(value: Any) -> str:
    """``value`` when it is an http(s) address, else empty (citations link nowhere else)."""
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else ""


def score_of(value: Any) -> float | None:
    return round(float(value), 4) if isinstance(value, int | float) else None


def empty_reply(options: EngineOptions, query: Query, text: str) -> bool:
    """Whether ``text`` is one of the engine's configured "nothing found" replies."""
    said = _plain(text)
    for reply in options.empty_replies:
        parts = [re.escape(_plain(part)) for part in reply.split("{question}")]
        if re.fullmatch(".*".join(parts), said, flags=re.DOTALL):
            return True
    return False


def _plain(text: str) -> str:
    # RAGFlow HTML-escapes its empty response; whitespace differences are no difference.
    return " ".join(html.unescape(text).split())


def source_url(
    options: EngineOptions,
    url: Any,
    knowledge: tuple[Any, ...],
    document_name: Any = "",
    document_id: Any = "",
) -> str:
    """The link of a source: its own http(s) ``url``, else the template configured for its
    knowledge base (``knowledge``: its id and name), else nothing."""
    own = http_url(url)
    if own or not options.source_urls:
        return own
    for key in (*knowledge, "*"):
        template = options.source_urls.get(key) if isinstance(key, str) and key else None
        if template:
            filled = template.replace("{document_name}", quote(text_of(document_name)))
            return http_url(filled.replace("{document_id}", quote(str(document_id or ""))))
    return ""
