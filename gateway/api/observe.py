"""Observability at the HTTP edge: request ids, the access log, request metrics, ``/metrics``.

- :class:`RequestObserver` (pure ASGI, so streams are never buffered) counts and times every
  request by its route template, and writes one ``gateway.access`` line per request: method,
  path, status, milliseconds and the request id — never the client's address.
- Request ids come from asgi-correlation-id: the client's ``X-Request-ID`` when it is a UUID,
  else a new one, echoed in the response and added to every log line (gateway/logs.py).
- ``GET /metrics``: Prometheus text (gateway/metrics.py). With ``PROMETHEUS_MULTIPROC_DIR``
  set, the metrics of every worker process sharing that folder.
"""

from __future__ import annotations

import logging
import os
import time

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import metrics
from gateway.config import Settings
from gateway.errors import GatewayError

access_log = logging.getLogger("gateway.access")

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics_endpoint(request: Request) -> Response:
    if not request.app.state.settings.metrics.enabled:
        raise GatewayError("not_found")
    await request.app.state.chat.router.status()  # refreshes the breaker gauges
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class RequestObserver:
    def __init__(self, app: ASGIApp, access: bool = True) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            metrics.HTTP_REQUESTS.labels(route, scope["method"], str(status)).inc()
            metrics.HTTP_SECONDS.labels(route).observe(elapsed)
            if self.access:
                access_log.info(
                    "%s %s %d %.1f ms",
                    scope["method"],
                    scope["path"],
                    status,
                    elapsed * 1000,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    },
                )


def install(app: FastAPI, settings: Settings) -> None:
    """Outermost, so the request id and the timing cover everything else."""
    app.include_router(router)
    app.add_middleware(RequestObserver, access=settings.logging.access)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
