"""Request-size limit for the API, answered like every other error (localized JSON).

Starlette's own body limit answers in plain text from outside the exception handlers, so the
limit is enforced here: reading too much raises an HTTP 413 inside the route, which FastAPI
passes through its body parsing untouched and the error handlers turn into the usual JSON.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(
        self, app: ASGIApp, max_bytes: int, prefix: str = "/api/", exempt: str | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix
        #: A path under ``prefix`` with a limit of its own (recordings for voice input).
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith(self.prefix)
            or (self.exempt and path.startswith(self.exempt))
        ):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        too_large = declared.isdigit() and int(declared) > self.max_bytes
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if too_large:
                raise HTTPException(413)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413)
            return message

        await self.app(scope, limited_receive, send)
