"""``/admin``: the operators' page, in the operator's language, built on the admin API alone.

The page itself is public and holds no data: it asks for the admin token, keeps it in the
tab's ``sessionStorage`` (gone when the tab closes) and calls ``/api/v1/admin/*`` with it.
Its script and stylesheet are files of their own, so the page runs under the site's
Content-Security-Policy without inline code. Accessibility: real headings, labelled controls,
tables with captions and column headers, a polite live region for what happened, a skip
link, visible focus, text in rem; checked with axe-core in Chromium
(tests/gateway/test_admin_page.py).
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from string import Template

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

import locales
from gateway.api.locale import request_locale

router = APIRouter(include_in_schema=False)

ASSETS = {"admin.js": "text/javascript", "admin.css": "text/css"}
#: Stricter than the portal's: its own script and stylesheet only, and never in a frame (an
#: operators' page framed by another site could be clicked through unseen).
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",
}


@cache
def _asset(name: str) -> str:
    return (resources.files("gateway") / "data" / "admin" / name).read_text(encoding="utf-8")


def strings(locale: str) -> dict[str, str]:
    """Every ``admin.*`` message in ``locale``, unformatted (the script fills placeholders)."""
    keys = sorted(key for key in locales.keys(locales.DEFAULT_LOCALE) if key.startswith("admin."))
    return {key[len("admin.") :]: locales.text(key, locale) for key in keys}


@router.get("/admin", response_class=HTMLResponse)
async def admin_page(request: Request, lang: str | None = None) -> HTMLResponse:
    locale = request_locale(request, lang)
    texts = strings(locale)
    values = {key: html.escape(value) for key, value in texts.items()}
    info = locales.info(locale)
    page = Template(_asset("admin.html")).substitute(
        values,
        lang=html.escape(locale),
        dir=info.direction,
        # In a JSON block the script reads; "</" escaped so no text can end the block early.
        strings=json.dumps(texts, ensure_ascii=False).replace("</", "<\\/"),
    )
    return HTMLResponse(page, headers=HEADERS)


@router.get("/admin/{name}")
async def admin_asset(name: str) -> Response:
    if name not in ASSETS:
        from gateway.errors import GatewayError

        raise GatewayError("not_found")
    return Response(_asset(name), media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})
