"""The one way the gateway makes HTTP requests: an ``httpx.AsyncClient`` with the configured
transport, timeouts and connection limits, and one translation of HTTP failures into
:class:`~gateway.backends.base.BackendError`.

The transport is chosen by measurement (docs/benchmarks.md): httpx's API over aiohttp's
connection pool (the ``httpx-aiohttp`` package) proxied several times more requests per second
on this machine than httpx's own pool, with the same code above it.

The client keeps no cookies: it speaks to a back end for every resident at once, so a cookie one
reply sets must not ride along with the next resident's question. (Reading each reply's
cookies into a jar was also a fifth of httpx's own work per request.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from gateway.backends.base import BackendError
from gateway.config import HttpConfig


class NoCookies(httpx.Cookies):
    """An always-empty cookie jar: replies' ``Set-Cookie`` headers are not read at all."""

    def extract_cookies(self, response: httpx.Response) -> None:
        pass

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        raise TypeError("the gateway's HTTP clients keep no cookies")

    def update(self, cookies: object = None) -> None:  # type: ignore[override]
        if cookies:
            raise TypeError("the gateway's HTTP clients keep no cookies")


class BackendClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` that keeps no cookies (see the module's docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._no_cookies = NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies


def create_client(
    config: HttpConfig,
    *,
    base_url: str = "",
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> BackendClient:
    """A client for one back end. ``timeout`` bounds each read; the router bounds the whole
    answer and its first piece (docs/routing.md), so this is only a backstop."""
    limits = httpx.Limits(
        max_connections=config.max_connections,
        max_keepalive_connections=config.max_keepalive_connections,
        keepalive_expiry=config.keepalive_expiry,
    )
    timeouts = httpx.Timeout(timeout, connect=config.connect_timeout)
    transport: httpx.AsyncBaseTransport
    if config.transport == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=limits, trust_env=False)
    else:
        transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    return BackendClient(
        # A trailing slash makes relative paths extend the base URL instead of replacing its
        # last segment (``…/v1`` + ``chat/completions``).
        base_url=base_url.rstrip("/") + "/" if base_url else "",
        headers=dict(headers or {}),
        timeout=timeouts,
        transport=transport,
        trust_env=False,
    )


def transport_failure(name: str, exc: httpx.HTTPError) -> BackendError:
    """A failure to reach or read from a back end: worth trying another."""
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "unreachable"
    return BackendError(f"{name}: {kind} ({type(exc).__name__}: {exc})", retryable=True)


def check_status(name: str, response: httpx.Response, body: bytes = b"") -> None:
    """Raise for a reply that is not a success: 429 and 5xx may succeed elsewhere; other
    refusals (bad request, refused key) would be refused again."""
    status = response.status_code
    if status < 400:
        return
    detail = body[:200].decode("utf-8", "replace").strip()
    retryable = status == 429 or status >= 500
    raise BackendError(f"{name}: HTTP {status} {detail}", retryable=retryable, status=status)
