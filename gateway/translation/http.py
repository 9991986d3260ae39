"""The translation engines' way to an HTTP service: the gateway's one client factory
(gateway/http.py), with failures turned into ``TranslationError``."""

from __future__ import annotations

import os
from typing import Any

import httpx

from gateway.config import HttpConfig
from gateway.http import create_client
from gateway.translation.base import TranslationError, Translator


class HttpTranslator(Translator):
    """An engine behind an HTTP service; its options have a ``timeout`` in seconds."""

    _http: httpx.AsyncClient | None = None
    #: The gateway's ``[http]`` settings, handed over by the translation service.
    http_config: HttpConfig = HttpConfig()

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            timeout = self.options.timeout  # type: ignore[attr-defined]
            self._http = create_client(self.http_config, timeout=timeout)
        return self._http

    async def startup(self) -> None:
        self.http  # noqa: B018 - opens the client

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def secret(env_name: str) -> str:
    """The key stored in environment variable ``env_name`` (empty name: no key)."""
    if not env_name:
        return ""
    value = os.environ.get(env_name, "")
    if not value:
        raise TranslationError(f"the environment variable {env_name} holding the key is not set")
    return value


async def request_json(
    http: httpx.AsyncClient, method: str, url: str, engine: str, **kwargs: Any
) -> Any:
    """The JSON body of a successful reply; any failure becomes a ``TranslationError``."""
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise TranslationError(f"{engine}: {url} could not be reached: {exc!r}") from exc
    if response.status_code >= 400:
        raise TranslationError(
            f"{engine}: {url} answered {response.status_code}: {_error_text(response)}",
            unsupported=response.status_code == 400,
        )
    try:
        return response.json()
    except ValueError as exc:
        raise TranslationError(f"{engine}: {url} did not answer JSON") from exc


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message", error))[:200]
        if error:
            return str(error)[:200]
    return str(body)[:200]
