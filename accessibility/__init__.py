"""Accessibility assets and the installer that hands them to Gradio.

- :func:`gradio_options` — keyword arguments for ``gr.mount_gradio_app``: the theme (system
  fonts, rem sizes, colours from the palette) and no footer links (they are 1.9:1 grey).
- :func:`head` — what goes into each page's ``<head>`` before anything is painted: the inline
  boot script that applies the resident's settings, the stylesheet and the behaviour script.
  Gradio injects its own ``head=`` only after its app has started, which is after the first
  paint, so the portal writes this into the HTML it serves (``portal.pages``).
- :func:`mount_assets` — serves ``portal.css`` and ``portal.js``.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

#: Where the stylesheet and script are served, under the app's root.
ASSET_PATH = "/accessibility"
ASSETS = ("portal.css", "portal.js")


def asset(name: str) -> Path:
    """The path of a file shipped in this package."""
    return Path(str(resources.files(__name__) / name))


@cache
def _version(name: str) -> str:
    return hashlib.sha256(asset(name).read_bytes()).hexdigest()[:12]


def gradio_options() -> dict[str, Any]:
    """Keyword arguments for ``gr.mount_gradio_app`` that install the accessible theme."""
    from accessibility.theme import portal_theme

    # SSR would need Node at run time and Gradio does not offer it for multipage apps mounted
    # on FastAPI; the boot script in <head> gives the first paint its settings instead.
    return {"theme": portal_theme(), "footer_links": [], "ssr_mode": False}


@cache
def head(root: str = "") -> str:
    """The ``<head>`` markup: boot script inline (it must run before the body is painted),
    then the stylesheet, then the behaviour script (deferred, before Gradio's own)."""
    boot = asset("boot.js").read_text(encoding="utf-8")
    base = root.rstrip("/") + ASSET_PATH
    return (
        f"<script>{boot}</script>"
        f'<link rel="stylesheet" href="{base}/portal.css?v={_version("portal.css")}">'
        f'<script defer src="{base}/portal.js?v={_version("portal.js")}"></script>'
    )


def mount_assets(app: Starlette) -> None:
    """Serve the assets at :data:`ASSET_PATH`; add before Gradio, which takes every path."""
    for name in ASSETS:
        app.add_route(f"{ASSET_PATH}/{name}", _serve(name), methods=["GET", "HEAD"])


def _serve(name: str) -> Callable[[Request], Awaitable[Response]]:
    media_type = "text/css" if name.endswith(".css") else "text/javascript"
    # The URL carries the file's hash, so the file can be cached for good.
    return compressed(
        asset(name).read_bytes(),
        media_type,
        {"Cache-Control": "public, max-age=31536000, immutable"},
    )


def compressed(
    plain: bytes, media_type: str, headers: dict[str, str]
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that serves ``plain``, gzipped once for browsers that take it, with an
    ``ETag`` a browser can revalidate against (``304 Not Modified``)."""
    packed = gzip.compress(plain, 9)
    # Weak: the gzipped and the plain body are the same resource.
    etag = 'W/"' + hashlib.sha256(plain).hexdigest()[:16] + '"'
    fixed = {**headers, "ETag": etag, "Vary": "Accept-Encoding"}

    async def endpoint(request: Request) -> Response:
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=fixed)
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(
                packed, media_type=media_type, headers={**fixed, "Content-Encoding": "gzip"}
            )
        return Response(plain, media_type=media_type, headers=fixed)

    return endpoint
