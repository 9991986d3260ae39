"""Every error leaves as JSON ``{"error": {"code", "message"}}`` in the resident's language."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Route

from gateway.api.locale import request_locale
from gateway.errors import GatewayError

log = logging.getLogger("gateway.api")

_CODE_BY_STATUS = {
    400: "invalid_json",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
}


def error_response(request: Request, error: GatewayError) -> JSONResponse:
    locale = request_locale(request)
    hotline = request.app.state.chat.hotline
    return JSONResponse(
        error.body(locale, hotline=hotline),
        status_code=error.status,
        headers=getattr(error, "headers", None),
    )


class MethodNotAllowed(GatewayError):
    """405 with the ``Allow`` header RFC 9110 asks for."""

    def __init__(self, allowed: list[str]) -> None:
        super().__init__("method_not_allowed")
        self.headers = {"Allow": ", ".join(allowed)}


def allowed_methods(request: Request) -> list[str]:
    """The methods the app's routes take at the request's address (none: it is unknown).
    Catch-all routes (every method) do not count."""
    path = request.scope["path"]
    methods: set[str] = set()
    for route in _routes(request.app.router.routes):
        if "{path:path}" not in route.path and route.path_regex.match(path):
            methods |= route.methods or set()
    return sorted(methods)


def _routes(routes: Sequence[BaseRoute]) -> Iterator[Route]:
    for route in routes:
        if isinstance(route, Route):
            yield route
        elif hasattr(route, "original_router"):
            # FastAPI keeps an included router whole (its routes carry the router's prefix;
            # the gateway includes every router without another).
            yield from _routes(route.original_router.routes)


def is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def _gateway_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayError)
    return error_response(request, exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    body = exc.body if isinstance(exc.body, dict) else {}
    lang = body.get("lang") if isinstance(body.get("lang"), str) else None
    request_locale(request, lang if lang and len(lang) <= 35 else None)
    if request.method in ("POST", "PUT", "PATCH") and not is_json(request):
        return error_response(request, GatewayError("unsupported_media_type"))
    problems = exc.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return error_response(request, GatewayError("invalid_json"))
    detail = "; ".join(
        ".".join(str(part) for part in problem["loc"] if part != "body") + f" ({problem['type']})"
        for problem in problems[:5]
    )
    return error_response(request, GatewayError("invalid_request", detail=detail))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _CODE_BY_STATUS.get(exc.status_code)
    if code is None:
        code = "internal" if exc.status_code >= 500 else "invalid_request"
    params = {"detail": str(exc.detail)} if code == "invalid_request" else {}
    response = error_response(request, GatewayError(code, **params))
    if exc.status_code == 405 and exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(request, GatewayError("internal"))


def install(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
