"""``/embed.js``: the loader a government site adds with one script tag (docs/embedding.md).

The script is ``portal/embed.js`` with its settings written in once, when the app is built:
the launcher's words and the widget's title in every UI language, the language tags it
understands, the default locale, and the sites allowed to frame the widget
(``[security] frame_ancestors``). The loader checks the host page against that list, so a
site that is not on it gets no launcher at all rather than a panel the browser refuses to
fill; the browser's ``frame-ancestors`` check stays the lock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

import locales
from accessibility import compressed
from gateway.config import Settings
from portal.widget import TITLE_LIMIT, WIDGET_PATH

LOADER_PATH = "/embed.js"
#: Written over in the template by the settings, as JSON.
_PLACEHOLDER = "/*SETTINGS*/ null"
#: Host pages pick up a changed allowlist or new strings within this time.
CACHE_SECONDS = 600


def loader_settings(settings: Settings, default: str) -> dict[str, Any]:
    """What the loader needs to know, as it is written into it."""
    return {
        "default": default,
        "widget": WIDGET_PATH.lstrip("/"),
        "titleLimit": TITLE_LIMIT,
        "ancestors": settings.security.frame_ancestors,
        "tags": locales.tags(),
        "locales": {
            code: {
                "open": locales.text("widget.open", code),
                "close": locales.text("widget.close", code),
                "title": locales.text("portal.title", code),
                "dir": locales.info(code).direction,
            }
            for code in locales.available()
        },
    }


def loader_script(settings: Settings, default: str) -> str:
    template = Path(__file__).with_name("embed.js").read_text(encoding="utf-8")
    if _PLACEHOLDER not in template:
        raise RuntimeError("portal/embed.js has lost its settings placeholder")
    written = json.dumps(loader_settings(settings, default), ensure_ascii=False, indent=None)
    return template.replace(_PLACEHOLDER, written, 1)


def mount_loader(app: Starlette, settings: Settings, *, default: str) -> None:
    """Serve the loader at :data:`LOADER_PATH`; add before Gradio, which takes every path.
    Other sites load it, so it says they may (``Cross-Origin-Resource-Policy``)."""
    endpoint = compressed(
        loader_script(settings, default).encode(),
        "text/javascript",
        {
            "Cache-Control": f"public, max-age={CACHE_SECONDS}",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )
    app.add_route(LOADER_PATH, endpoint, methods=["GET", "HEAD"])
