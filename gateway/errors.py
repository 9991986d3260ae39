"""The one error type the gateway shows to residents: a stable code, an HTTP status and a
message from the locale catalogs (``error.<code>``)."""

from __future__ import annotations

from typing import Any

import locales

#: Every code the API may return, with its HTTP status. docs/api.md lists them.
STATUS_BY_CODE: dict[str, int] = {
    "empty_message": 422,
    "message_too_long": 422,
    "binary_input": 422,
    "invalid_json": 400,
    "invalid_request": 422,
    "unsupported_media_type": 415,
    "request_too_large": 413,
    "unauthorized": 401,
    "admin_disabled": 403,
    "question_blocked": 422,
    "question_refused": 422,
    "rate_limited": 429,
    "not_found": 404,
    "forbidden": 403,
    "method_not_allowed": 405,
    "origin_not_allowed": 403,
    "backend_unavailable": 503,
    "speech_unavailable": 422,
    "transcription_unavailable": 503,
    "audio_too_large": 413,
    "audio_too_long": 422,
    "empty_audio": 422,
    "unsupported_audio": 415,
    "internal": 500,
}


class GatewayError(Exception):
    """An error with a code whose message residents can read in their own language."""

    def __init__(self, code: str, /, **params: Any) -> None:
        if code not in STATUS_BY_CODE:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def status(self) -> int:
        return STATUS_BY_CODE[self.code]

    def message(self, locale: str | None, **context: Any) -> str:
        """The localized message; ``context`` supplies shared values such as the hotline."""
        return locales.text(f"error.{self.code}", locale, **{**context, **self.params})

    def body(self, locale: str | None, **context: Any) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message(locale, **context)}}
