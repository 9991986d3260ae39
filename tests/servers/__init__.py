"""Local servers that speak each back end's documented wire format, on 127.0.0.1.

Each module builds a FastAPI app from a :class:`Behaviour`, which a test changes to make the
server answer, stream slowly, fail, cut a stream or send malformed JSON. :func:`serve` runs an
app with uvicorn in a thread on a free port for the duration of a ``with`` block.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.processes import free_port


class CutStream(Exception):
    """Raised inside a streaming body: uvicorn drops the connection mid-reply."""


@dataclass
class Behaviour:
    #: The answer, streamed in pieces of ``chunk_chars`` characters.
    answer: str = "您好，办理居住证需要身份证和居住证明。"
    chunk_chars: int = 4
    #: Reply with this HTTP status (and a JSON error body) instead of answering.
    status: int = 200
    #: Send a body that is not JSON (or stream pieces that are not).
    malformed: bool = False
    #: Seconds before the reply starts at all.
    delay: float = 0.0
    #: Seconds after the stream has opened before its first piece.
    first_delay: float = 0.0
    #: Seconds between pieces.
    piece_delay: float = 0.0
    #: Drop the connection after this many pieces.
    cut_after: int | None = None
    #: The API key the server requires as ``Authorization: Bearer`` (None: any).
    api_key: str | None = None
    #: Everything received: ``{"path", "headers", "json"}`` per request answered.
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: Requests that arrived, answered or not.
    hits: int = 0
    #: Anything a particular server reads (citations, reasoning, quirks).
    extra: dict[str, Any] = field(default_factory=dict)

    def pieces(self) -> list[str]:
        size = max(1, self.chunk_chars)
        return [self.answer[i : i + size] for i in range(0, len(self.answer), size)]

    def reset(self) -> None:
        fresh = Behaviour()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))


async def received(behaviour: Behaviour, request: Request) -> dict[str, Any]:
    """Record the request; its JSON body (or ``{}``)."""
    raw = await request.body()
    body = json.loads(raw) if raw else {}
    behaviour.requests.append(
        {"path": request.url.path, "headers": dict(request.headers), "json": body}
    )
    return body


def refusal(behaviour: Behaviour, request: Request, stream: bool = False) -> Response | None:
    """The reply to a request that must not be answered: wrong key, a configured status, or
    (not streaming) malformed JSON; a streaming server sends malformed pieces itself."""
    wanted = f"Bearer {behaviour.api_key}"
    if behaviour.api_key is not None and request.headers.get("authorization") != wanted:
        return JSONResponse({"error": {"message": "invalid api key"}}, status_code=401)
    if behaviour.status != 200:
        return JSONResponse(
            {"error": {"message": f"simulated {behaviour.status}"}}, status_code=behaviour.status
        )
    if behaviour.malformed and not stream:
        return Response('{"choices": [ {"mess', media_type="application/json")
    return None


def sse(frames: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(frames, media_type="text/event-stream")


async def paced(behaviour: Behaviour) -> AsyncIterator[tuple[int, str]]:
    """The answer's pieces with the configured pauses, cutting the stream when asked."""
    if behaviour.first_delay:
        await asyncio.sleep(behaviour.first_delay)
    for number, piece in enumerate(behaviour.pieces()):
        if behaviour.cut_after is not None and number >= behaviour.cut_after:
            raise CutStream("simulated connection drop")
        if number and behaviour.piece_delay:
            await asyncio.sleep(behaviour.piece_delay)
        yield number, piece


def app_with(behaviour: Behaviour) -> FastAPI:
    app = FastAPI()
    app.state.behaviour = behaviour

    @app.middleware("http")
    async def delayed(request: Request, call_next: Any) -> Response:
        behaviour.hits += 1
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        return await call_next(request)

    return app


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` on a free loopback port; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="critical",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Server:
    url: str
    behaviour: Behaviour
    app: FastAPI

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.behaviour.requests


@contextmanager
def running(create_app: Any, **kwargs: Any) -> Iterator[Server]:
    behaviour = Behaviour()
    app = create_app(behaviour, **kwargs)
    with serve(app) as url:
        yield Server(url, behaviour, app)
