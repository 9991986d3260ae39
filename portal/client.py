"""The portal's only way to the gateway: its HTTP API, through httpx.

Give it the gateway's URL, or any ``httpx.AsyncClient`` (an ASGI transport in tests). Errors
come back as :class:`GatewayUnavailable` carrying the gateway's localized message, so the
portal can show residents exactly what the gateway said.

The portal is a reverse proxy as far as the gateway is concerned: every resident's question
arrives from the portal's address. So questions and ratings name the resident's own address
(``resident``) in ``X-Forwarded-For``, and the gateway — trusting the portal's address
(``[limits] trusted_proxies``) — counts its per-address limits per resident, not for the portal
as a whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import aconnect_sse

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@dataclass
class GatewayUnavailable(Exception):
    """The gateway refused the request or could not be reached."""

    code: str
    message: str
    status: int = 0

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class GatewayClient:
    def __init__(self, base_url: str = "", client: httpx.AsyncClient | None = None) -> None:
        self.http = client or httpx.AsyncClient(base_url=base_url, timeout=DEFAULT_TIMEOUT)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def ask(
        self,
        message: str,
        *,
        lang: str,
        session_id: str | None = None,
        correct: bool = True,
        agent: str | None = None,
        resident: str | None = None,
    ) -> dict[str, Any]:
        body = _chat_body(message, lang, session_id, correct, agent)
        return await self._json("POST", "/api/v1/chat", lang, body, resident)

    async def stream(
        self,
        message: str,
        *,
        lang: str,
        session_id: str | None = None,
        correct: bool = True,
        agent: str | None = None,
        resident: str | None = None,
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """``(event, data)`` pairs as the gateway sends them (``delta``, ``replace``,
        ``citations``, ``done``, ``error``). ``correct=False`` asks the gateway to take the
        question exactly as typed, without spelling or pinyin correction. ``resident``: the
        address the question came from (see the module's docstring)."""
        body = {**_chat_body(message, lang, session_id, correct, agent), "stream": True}
        try:
            async with aconnect_sse(
                self.http, "POST", "/api/v1/chat", json=body, headers=_headers(lang, resident)
            ) as source:
                response = source.response
                if response.status_code != 200:
                    await response.aread()
                    raise _error(response)
                async for sse in source.aiter_sse():
                    yield sse.event, sse.json()
        except httpx.HTTPError as exc:
            raise GatewayUnavailable("unreachable", str(exc)) from exc

    async def hot(self, lang: str) -> list[dict[str, Any]]:
        return (await self._json("GET", f"/api/v1/hot?lang={lang}", lang))["questions"]

    async def categories(self, lang: str) -> list[dict[str, Any]]:
        return (await self._json("GET", f"/api/v1/categories?lang={lang}", lang))["categories"]

    async def feedback(
        self,
        message_id: str,
        helpful: bool,
        *,
        lang: str,
        comment: str | None = None,
        resident: str | None = None,
    ) -> str:
        body = {"message_id": message_id, "helpful": helpful, "comment": comment, "lang": lang}
        return (await self._json("POST", "/api/v1/feedback", lang, body, resident))["message"]

    async def speech_support(self, lang: str) -> dict[str, Any]:
        """What the gateway reads aloud, and whether it takes voice input (``/api/v1/speech``)."""
        return await self._json("GET", "/api/v1/speech", lang)

    async def speech(self, text: str, *, lang: str, resident: str | None = None) -> httpx.Response:
        """``text`` read aloud by the gateway: the audio response (``audio/wav`` …)."""
        body = {"text": text, "lang": lang}
        return await self._send("POST", "/api/v1/speech", lang, resident, json=body)

    async def transcribe(
        self,
        audio: bytes,
        media_type: str,
        *,
        lang: str,
        seconds: float | None = None,
        resident: str | None = None,
    ) -> str:
        """The words of a recording, written down by the gateway's transcriber."""
        query = f"?lang={lang}" + (f"&seconds={seconds:.1f}" if seconds is not None else "")
        response = await self._send(
            "POST",
            "/api/v1/transcriptions" + query,
            lang,
            resident,
            content=audio,
            headers={"Content-Type": media_type},
        )
        return str(response.json()["text"])

    async def _send(
        self, method: str, path: str, lang: str, resident: str | None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**_headers(lang, resident), **kwargs.pop("headers", {})}
        try:
            response = await self.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise GatewayUnavailable("unreachable", str(exc)) from exc
        if response.status_code != 200:
            raise _error(response)
        return response

    async def _json(
        self,
        method: str,
        path: str,
        lang: str,
        body: dict[str, Any] | None = None,
        resident: str | None = None,
    ) -> dict[str, Any]:
        return (await self._send(method, path, lang, resident, json=body)).json()


def _chat_body(
    message: str, lang: str, session_id: str | None, correct: bool, agent: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "lang": lang}
    if session_id:
        body["session_id"] = session_id
    if not correct:
        body["correct"] = False
    if agent:
        body["agent"] = agent
    return body


def _headers(lang: str, resident: str | None = None) -> dict[str, str]:
    headers = {"Accept-Language": lang}
    if resident:
        headers["X-Forwarded-For"] = resident
    return headers


def _error(response: httpx.Response) -> GatewayUnavailable:
    try:
        error = response.json()["error"]
        return GatewayUnavailable(error["code"], error["message"], response.status_code)
    except (ValueError, KeyError, TypeError):
        return GatewayUnavailable(
            "http_error", f"HTTP {response.status_code}", response.status_code
        )
