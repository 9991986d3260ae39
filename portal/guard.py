"""What the portal answers before Gradio does (docs/safety.md, "Errors"):

- Gradio's file routes are closed — uploads (``/gradio_api/upload``), the files it serves back
  (``/gradio_api/file=…``), its proxy and media streams: the portal takes no files (voice
  input posts its recording to ``/voice/transcription``, ``portal.voice``), and an open upload
  would let anyone store any file on the assistant's own origin. They answer 404, as an
  address that does not exist.
- Gradio's own errors (``{"detail": "Not Found"}``, or Starlette's line of English, for 403,
  404, 405) are written again as the gateway's, ``{"error": {"code", "message"}}`` in the
  resident's language (``?lang=``, then Accept-Language), ``Allow`` kept.
- ``X-Forwarded-Host``, which Gradio writes into the page's ``root`` (the address its script
  calls), is dropped unless a trusted proxy sent it; with ``[portal] public_url`` set Gradio
  is given that address and reads no header at all (``portal.app``).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import locales
from gateway.api.security import trusted
from gateway.config import Settings
from gateway.errors import GatewayError

#: Gradio's routes that take or give files, under its API prefix.
CLOSED = re.compile(
    r"^/gradio_api/(upload|upload_progress|file=|file/|proxy=|process_recording|stream/)"
)
#: Gradio's error statuses written again in the gateway's shape.
REWRITTEN = {403, 404, 405}
_CODES = {403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
#: How FastAPI (``{"detail": …}``) and Starlette (a line of English) write their errors.
_FRAMEWORK_ERRORS = ("application/json", "text/plain")


class PortalGuard:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        locale = self._locale(scope)
        if CLOSED.match(scope["path"]):
            await self._error(send, 404, locale)
            return
        scope = self._without_untrusted_host(scope)
        start: Message | None = None
        body: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = Headers(raw=message.get("headers", [])).get("content-type", "")
                if message["status"] in REWRITTEN and kind.startswith(_FRAMEWORK_ERRORS):
                    start = message  # held until the body shows whose error it is
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            await self._finish(send, start, b"".join(body), locale)

        await self.app(scope, receive, rewrite)

    async def _finish(self, send: Send, start: Message, body: bytes, locale: str) -> None:
        kind = Headers(raw=start.get("headers", [])).get("content-type", "")
        try:
            parsed = json.loads(body) if kind.startswith("application/json") else {"detail": ""}
        except ValueError:
            parsed = None
        if not (isinstance(parsed, dict) and set(parsed) == {"detail"}):
            await send(start)  # already the gateway's own error
            await send({"type": "http.response.body", "body": body})
            return
        allow = Headers(raw=start.get("headers", [])).get("allow")
        await self._error(send, start["status"], locale, allow)

    async def _error(self, send: Send, status: int, locale: str, allow: str | None = None) -> None:
        error = GatewayError(_CODES[status])
        content = json.dumps(
            error.body(locale, hotline=self.settings.service.hotline), ensure_ascii=False
        ).encode()
        headers = MutableHeaders()
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(content))
        headers["content-language"] = locale
        if allow:
            headers["allow"] = allow
        await send({"type": "http.response.start", "status": status, "headers": headers.raw})
        await send({"type": "http.response.body", "body": content})

    def _locale(self, scope: Scope) -> str:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        lang = (query.get("lang") or [None])[0]
        return locales.negotiate(
            lang if lang and len(lang) <= 35 else None,
            Headers(scope=scope).get("accept-language"),
            self.settings.service.default_locale,
        )

    def _without_untrusted_host(self, scope: Scope) -> Scope:
        if not any(name == b"x-forwarded-host" for name, _ in scope["headers"]):
            return scope
        client = scope.get("client")
        if client and trusted(client[0], self.settings.limits.trusted_proxies):
            return scope
        kept = [(name, value) for name, value in scope["headers"] if name != b"x-forwarded-host"]
        return {**scope, "headers": kept}
