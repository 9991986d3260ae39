"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.api.schemas import BackendHealth, Readiness

router = APIRouter()


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, summary="Readiness: knowledge base and back ends")
async def readyz(request: Request) -> JSONResponse:
    service = request.app.state.chat
    checks = []
    for backend in service.backends.values():
        health = await backend.health()
        checks.append(
            BackendHealth(name=backend.name, type=backend.type, ok=health.ok, detail=health.detail)
        )
    ready = getattr(request.app.state, "started", False) and any(check.ok for check in checks)
    readiness = Readiness(ready=ready, backends=checks)
    return JSONResponse(readiness.model_dump(), status_code=200 if ready else 503)
