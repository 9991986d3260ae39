"""The resident's UI language for a request: the request's ``lang``, then Accept-Language."""

from __future__ import annotations

from fastapi import Request

import locales


def request_locale(request: Request, lang: str | None = None) -> str:
    """Negotiate once per request; error handlers reuse the result."""
    cached = getattr(request.state, "locale", None)
    if cached and lang is None:
        return cached
    service = request.app.state.chat
    chosen = locales.negotiate(
        lang or request.query_params.get("lang"),
        request.headers.get("accept-language"),
        service.settings.service.default_locale,
    )
    request.state.locale = chosen
    return chosen
