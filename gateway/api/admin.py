"""``/api/v1/admin``: operators' endpoints, behind a bearer token.

The token is read from the environment variable ``[admin] token_env`` names (by default
``ASSISTANT_ADMIN_TOKEN``); while it is unset every admin request is refused (403). A wrong
token gets 401, and a client address that keeps sending wrong tokens is rate limited
(``[limits] admin_failures_per_ip``). Later admin views add their routes to this router with
the same guard: ``dependencies=[Depends(require_admin)]``.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from gateway.api import security
from gateway.api.schemas import ErrorResponse
from gateway.errors import GatewayError


async def require_admin(request: Request) -> None:
    variable = request.app.state.settings.admin.token_env
    expected = os.environ.get(variable, "") if variable else ""
    if not expected:
        raise GatewayError("admin_disabled")
    if not security.bearer_matches(request, expected):
        request.app.state.chat.safety.audit.record(
            "admin_refused", stage="admin", rule=request.url.path
        )
        address = security.client_address(request) or "unknown"
        await security.limit(request, "admin_failures_per_ip", address)
        raise GatewayError("unauthorized")


router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={status: {"model": ErrorResponse} for status in (401, 403, 429)},
)


@router.get("/audit", summary="Safety events, newest first")
async def audit(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    kind: str | None = Query(None, max_length=32, pattern=r"^[a-z_]+$"),
) -> dict[str, Any]:
    """What was blocked, masked, flagged or refused (docs/safety.md): no personal data."""
    events = await request.app.state.chat.safety.audit.recent(limit, kind)
    return {
        "events": [{**event, "created_at": event["created_at"].isoformat()} for event in events]
    }


@router.get("/safety", summary="The lexicon in use and the safety settings")
async def safety_status(request: Request) -> dict[str, Any]:
    return request.app.state.chat.safety.status()


@router.post("/lexicon/reload", summary="Read the lexicon files again")
async def reload_lexicon(request: Request) -> dict[str, Any]:
    """Builds the new lexicon beside the old one and swaps it in: questions being answered
    meanwhile are reviewed with the old one, none is dropped. A file that cannot be read
    leaves the old lexicon in place and answers 422 saying why."""
    from gateway.config import ConfigError

    try:
        return await request.app.state.chat.safety.reload()
    except ConfigError as exc:
        raise GatewayError("invalid_request", detail=str(exc)) from exc
