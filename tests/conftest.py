"""Shared fixtures: settings with a throw-away database, the gateway app, an HTTP client."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gateway import logs
from gateway.app import create_app
from gateway.chat import ChatService
from gateway.config import LoggingConfig, Settings, load_settings


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The gateway's own JSON logging (gateway/logs.py), written to the stream yielded."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logs.configure(LoggingConfig(format="json", level="info"), stream=stream)
    yield stream
    root.handlers, root.level = saved[0], saved[1]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def make_settings(tmp_path: Path):
    """Settings from a TOML text, with the database in the test's own folder."""

    def make(toml: str = "", **environ: str) -> Settings:
        path = tmp_path / "gateway.toml"
        path.write_text(toml, encoding="utf-8")
        environ.setdefault("GATEWAY_STATE__DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
        return load_settings(path, environ=environ)

    return make


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()


class GatewayClient(httpx.AsyncClient):
    """A client of one gateway app, which it names: ``client.chat`` is the app's service."""

    def __init__(self, app: FastAPI, client_address: str = "127.0.0.1") -> None:
        transport = httpx.ASGITransport(app=app, client=(client_address, 50000))
        super().__init__(transport=transport, base_url="http://gateway")
        self.app = app

    @property
    def chat(self) -> ChatService:
        return self.app.state.chat


async def started(app: FastAPI) -> AsyncIterator[GatewayClient]:
    async with app.router.lifespan_context(app), GatewayClient(app) as client:
        yield client


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway on the embedded defaults (the bundled sample knowledge base)."""
    async for client in started(create_app(settings)):
        yield client


@pytest.fixture
def serve_app(make_settings):
    """Start a gateway app from TOML and yield a client (use as ``async with``)."""

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def serve(toml: str = "", **environ: str):
        app = create_app(make_settings(toml, **environ))
        async for client in started(app):
            yield client

    return serve


# -- real Redis and PostgreSQL (tests/databases.py), started once, on first use ------------------


@pytest.fixture(scope="session")
def redis_server():
    from tests.databases import redis_server as start

    with start() as server:
        yield server


@pytest.fixture
def redis_url(redis_server) -> str:
    """An empty Redis."""
    if redis_server.process is None:  # a test stopped it
        redis_server.start()
    redis_server.flush()
    return redis_server.url


@pytest.fixture(scope="session")
def postgres_server():
    from tests.databases import postgres_server as start

    with start() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server):
    """A new empty PostgreSQL database, dropped afterwards."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)
