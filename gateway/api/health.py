"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.api.schemas import BackendHealth, BackendStatus, Readiness
from gateway.chat import ChatService

router = APIRouter()


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, summary="Readiness: knowledge base and back ends")
async def readyz(request: Request) -> JSONResponse:
    checks = [
        BackendHealth.model_validate(status.model_dump(include=set(BackendHealth.model_fields)))
        for status in await backend_statuses(request.app.state.chat)
    ]
    ready = getattr(request.app.state, "started", False) and any(check.ok for check in checks)
    readiness = Readiness(ready=ready, backends=checks)
    return JSONResponse(readiness.model_dump(), status_code=200 if ready else 503)


async def backend_statuses(service: ChatService) -> list[BackendStatus]:
    """Each back end's own health and how the router sees it (breaker, load)."""
    router = service.router
    lanes = await router.status()
    statuses = []
    for backend in service.backends.values():
        health = await backend.health()
        statuses.append(
            BackendStatus(
                name=backend.name,
                type=backend.type,
                ok=health.ok and lanes[backend.name]["breaker"] != "open",
                detail=health.detail,
                routes=router.routes_of(backend.name),
                **lanes[backend.name],
            )
        )
    return statuses
