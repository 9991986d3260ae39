"""The HTTP side of safety: response headers, CORS, client addresses behind proxies, rate
limits and bearer tokens. docs/safety.md.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import locales
from gateway.config import SecurityConfig, Settings
from gateway.errors import GatewayError
from gateway.safety.ratelimit import RateLimiter

#: JSON and event streams load nothing and may be framed by no one.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
#: FastAPI's /docs and /redoc load Swagger UI and ReDoc from their CDN.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; worker-src 'self' blob:; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """Adds the security headers to every response, streamed ones included (pure ASGI, so a
    stream is never buffered). Web pages get the configured Content-Security-Policy."""

    def __init__(self, app: ASGIApp, config: SecurityConfig) -> None:
        self.app = app
        self.page_policy = page_policy(config)
        self.page_frame_options = frame_options(self.page_policy)
        self.referrer_policy = config.referrer_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                if scope["path"].startswith(DOCS_PATHS):
                    policy = DOCS_POLICY
                else:
                    policy = self.page_policy if html else API_POLICY
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", self.referrer_policy)
                options = self.page_frame_options if policy is self.page_policy else "DENY"
                if options:
                    headers.setdefault("X-Frame-Options", options)
            await send(message)

        await self.app(scope, receive, with_headers)


def page_policy(config: SecurityConfig) -> str:
    """The policy of web pages, with ``frame-ancestors`` from the allowlist (an empty list
    allows no site)."""
    policy = config.content_security_policy.strip().rstrip(";")
    if "frame-ancestors" not in policy:
        policy += "; frame-ancestors " + (" ".join(config.frame_ancestors) or "'none'")
    return policy


def frame_options(policy: str) -> str | None:
    """``X-Frame-Options`` for browsers that predate ``frame-ancestors``, where it can say
    the same thing: no site, or this site only. (Its ``ALLOW-FROM`` was never widely kept.)"""
    ancestors = re.search(r"frame-ancestors\s+([^;]*)", policy)
    sources = ancestors[1].split() if ancestors else []
    if sources == ["'none'"]:
        return "DENY"
    if sources == ["'self'"]:
        return "SAMEORIGIN"
    return None


class LocalizedCORS(CORSMiddleware):
    """Starlette's CORS, whose refused preflight is the gateway's error JSON in the
    resident's language (Accept-Language) rather than a 400 in English plain text."""

    def __init__(self, app: ASGIApp, *, settings: Settings, **options: Any) -> None:
        super().__init__(app, **options)
        self.settings = settings

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        locale = locales.negotiate(
            None, request_headers.get("accept-language"), self.settings.service.default_locale
        )
        error = GatewayError("origin_not_allowed")
        return JSONResponse(
            error.body(locale, hotline=self.settings.service.hotline),
            status_code=error.status,
            headers={"Vary": "Origin, Accept-Language"},
        )


def install(app: FastAPI, settings: Settings) -> None:
    """The headers, CORS allowlist and proxy handling of a gateway (or portal) app."""
    if settings.server.cors_origins:
        app.add_middleware(
            LocalizedCORS,
            settings=settings,
            allow_origins=settings.server.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Accept-Language", "Authorization"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, config=settings.security)
    if settings.limits.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.limits.trusted_proxies)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


async def limit(request: Request, scope: str, key: str | None = None) -> None:
    """Count the request against ``scope``'s rates; raises ``GatewayError("rate_limited")``.
    ``key`` defaults to the client address. A request from a trusted proxy that did not say
    whose it is (the co-hosted portal calling over loopback) is not limited by address."""
    limiter: RateLimiter = request.app.state.limiter
    if key is None:
        key = client_address(request)
        proxies = request.app.state.settings.limits.trusted_proxies
        if not key or ("x-forwarded-for" not in request.headers and trusted(key, proxies)):
            return
    wait = await limiter.hit(scope, key)
    if wait is not None:
        request.app.state.chat.safety.audit.record("rate_limited", stage="request", rule=scope)
        raise RateLimited(wait)


class RateLimited(GatewayError):
    def __init__(self, seconds: float) -> None:
        super().__init__("rate_limited", seconds=int(seconds))
        self.headers = {"Retry-After": str(int(seconds))}


def trusted(address: str, proxies: list[str]) -> bool:
    if "*" in proxies:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for proxy in proxies:
        try:
            if ip in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def bearer_matches(request: Request, expected: str) -> bool:
    given = request.headers.get("authorization", "")
    token = given[7:].strip() if given.lower().startswith("bearer ") else ""
    return bool(token) and secrets.compare_digest(token.encode(), expected.encode())
