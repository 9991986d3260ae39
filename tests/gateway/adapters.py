"""Helpers for testing an adapter against its engine's local server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import REGISTRY

from gateway import backends
from gateway.backends.base import Backend, Delta, Done, Event, Query, Turn
from gateway.config import BackendConfig, Settings
from gateway.services import Services

QUESTION = Query(
    text="居住证怎么办理",
    session_id="s-1",
    history=(Turn("user", "你好"), Turn("assistant", "您好，请问办什么业务？")),
)


@asynccontextmanager
async def adapter(type_: str, name: str = "", **options: Any) -> AsyncIterator[Backend]:
    backend = backends.create(
        BackendConfig(name=name or type_, type=type_, **options), Services(Settings())
    )
    await backend.startup()
    try:
        yield backend
    finally:
        await backend.aclose()


async def events(backend: Backend, query: Query = QUESTION) -> list[Event]:
    return [event async for event in backend.stream(query)]


async def answer_of(backend: Backend, query: Query = QUESTION):  # type: ignore[no-untyped-def]
    collected = await events(backend, query)
    assert isinstance(collected[-1], Done)
    return collected[-1].answer


def streamed_text(collected: list[Event]) -> str:
    return "".join(event.text for event in collected if isinstance(event, Delta))


def tokens(backend: str, kind: str) -> float:
    """The tokens counted so far for ``backend`` (metrics are process-wide)."""
    value = REGISTRY.get_sample_value(
        "gateway_backend_tokens_total", {"backend": backend, "kind": kind}
    )
    return value or 0.0


@dataclass
class Rated:
    """A rated answer as the gateway's feedback path hands it to ``Backend.feedback``."""

    metadata: dict[str, Any]
    question: str = QUESTION.text
    backend: str = ""
    entry_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def reset_servers(request, *fixtures: str) -> None:
    """Put the test servers a test used (by fixture name) back to their default behaviour."""
    for name in fixtures:
        if name in request.fixturenames:
            request.getfixturevalue(name).behaviour.reset()
