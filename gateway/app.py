"""The gateway's ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import gateway
from gateway.api import admin, admin_page, errors, health, observe, openai, security, speech, v1
from gateway.api.limits import BodyLimit
from gateway.chat import ChatService
from gateway.config import CONFIG_FILE_VARIABLE, Settings
from gateway.safety.ratelimit import RateLimiter


def create_app(settings: Settings | None = None, service: ChatService | None = None) -> FastAPI:
    """The gateway app. ``service`` lets tests and the portal supply a prepared one."""
    settings = settings or Settings()
    service = service or ChatService.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.startup()
        app.state.started = True
        try:
            yield
        finally:
            await service.aclose()

    app = FastAPI(
        title="Government services assistant gateway",
        version=gateway.__version__,
        lifespan=lifespan,
        docs_url="/docs",
    )
    app.state.chat = service
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.limits, settings.redis.url, settings.redis.prefix)
    app.state.started = False
    errors.install(app)
    # Routes are matched in order: the busiest first (their paths do not overlap).
    app.include_router(openai.router)
    app.include_router(admin.router)  # before v1's catch-all of unknown /api/v1 paths
    app.include_router(speech.router)  # likewise
    app.include_router(v1.router)
    app.include_router(admin_page.router)
    app.include_router(health.router)
    app.add_middleware(
        BodyLimit, max_bytes=settings.service.max_body_bytes, exempt=speech.TRANSCRIPTIONS
    )
    app.add_middleware(
        BodyLimit, max_bytes=speech.upload_limit(settings), prefix=speech.TRANSCRIPTIONS
    )
    app.add_middleware(BodyLimit, max_bytes=settings.facade.max_body_bytes, prefix="/v1/")
    security.install(app, settings)
    observe.install(app, settings)
    return app


def app_from_environment() -> FastAPI:
    """The app for ``gateway --workers N`` and for ``uvicorn``/``gunicorn`` given an import
    string (``gateway.app:app_from_environment`` with ``--factory``): the configuration file
    is named by ``GATEWAY_CONFIG`` (optional), overridden by ``GATEWAY_*`` variables."""
    import os

    from gateway import logs
    from gateway.config import load_settings

    settings = load_settings(os.environ.get(CONFIG_FILE_VARIABLE) or None)
    logs.configure(settings.logging)
    return create_app(settings)
