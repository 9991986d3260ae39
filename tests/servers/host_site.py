"""A government site that embeds the assistant: accessible pages served from their own
loopback port, so from another origin than the assistant. Tests and ``bench/weight.py`` add
pages to it (:meth:`HostSite.add`) and load them in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from tests.servers import serve

#: The site's own accessibility toolbar, fixed in the bottom-right corner as such toolbars
#: often are: the launcher must be placed so that it never covers it.
SITE_TOOLBAR = (
    '<nav id="site-toolbar" aria-label="本站无障碍浏览" style="position: fixed; right: 0; '
    'bottom: 0; display: flex; gap: 8px; padding: 12px; background: #1b1b1f; z-index: 10;">'
    '<button type="button" style="min-width: 48px; min-height: 48px">大字</button>'
    '<button type="button" style="min-width: 48px; min-height: 48px">读屏</button>'
    "</nav>"
)


def page(body: str, *, title: str = "某区人民政府") -> str:
    """A small, accessible page of the host site around ``body``."""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        '<body style="margin: 0; font-size: 18px; background: #ffffff; color: #1b1b1f">'
        f"<header><h1>{escape(title)}门户网站</h1></header>"
        '<main><p>欢迎访问本区政务服务网。</p><p><a href="#guide">办事指南</a></p>'
        f"{body}</main>{SITE_TOOLBAR}</body></html>"
    )


def script_tag(assistant: str, **attributes: str) -> str:
    """The one line a web team adds: ``<script src=…/embed.js data-…>``."""
    data = "".join(
        f' data-{name.replace("_", "-")}="{escape(value)}"' for name, value in attributes.items()
    )
    return f'<script src="{assistant}/embed.js"{data} async></script>'


@dataclass
class HostSite:
    url: str
    pages: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, html: str) -> str:
        """Serve ``html`` at ``path``; its URL."""
        self.pages[path] = html
        return self.url + path


@contextmanager
def host_site() -> Iterator[HostSite]:
    pages: dict[str, str] = {}
    app = FastAPI()

    @app.get("/{path:path}")
    async def endpoint(request: Request) -> Response:
        html = pages.get(request.url.path)
        if html is None:
            return PlainTextResponse("not found", status_code=404)
        return HTMLResponse(html)

    with serve(app) as url:
        yield HostSite(url, pages)
