"""One page per UI language, and the page's language written into the HTML it is served as.

Gradio builds its pages once, so the portal has one page per locale (``/`` for the default,
``/en``, ``/ar`` …). :class:`LocalizedPages` sits in front of Gradio and

- sends ``/`` to the resident's page: ``?lang=`` first, then ``Accept-Language``;
- sends a page asked for with another ``?lang=`` to that language's page;
- sends ``/widget`` to the resident's page as the widget (``?embed=widget``, ``portal.widget``);
- writes ``<html lang dir>``, ``<title>`` and the accessibility ``<head>`` into the page before
  it leaves, so the language, direction and display settings hold from the first paint; the
  widget's page also gets ``data-embed`` and its own title.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import locales
from portal.widget import (
    EMBED_VALUE,
    WIDGET_PATH,
    WidgetOptions,
    embedded_query,
    untitled_query,
)

#: Gradio's front end knows these languages under another name (its own strings, such as
#: "Loading…", follow them); the others fall back to its English.
GRADIO_LOCALES = {"zh-HK": "zh-TW"}

_HTML_TAG = re.compile(rb"<html\b[^>]*>", re.IGNORECASE)
_LANG_OR_DIR = re.compile(rb"\s(?:lang|dir)=\"[^\"]*\"", re.IGNORECASE)
# The head begins with the charset declaration, which must stay in the first 1024 bytes.
_HEAD_START = re.compile(rb"<head\b[^>]*>\s*(<meta\s+charset=[^>]*>)?", re.IGNORECASE)


@dataclass(frozen=True)
class PageInfo:
    locale: str
    title: str
    direction: str
    #: More attributes of ``<html>`` (the widget's ``data-embed``).
    attributes: tuple[tuple[str, str], ...] = ()


def page_path(locale: str, default: str) -> str:
    """The path of a locale's page under the portal's root."""
    return "/" if locale == default else f"/{locale}"


class LocalizedPages:
    def __init__(
        self, app: ASGIApp, *, default: str, codes: list[str], head: Callable[[str], str]
    ) -> None:
        self.app = app
        self.default = default
        self.by_path = {page_path(code, default): code for code in codes}
        self.pages = {
            code: PageInfo(code, locales.text("portal.title", code), locales.info(code).direction)
            for code in codes
        }
        self.head = head

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path not in self.by_path and path != WIDGET_PATH:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        query = scope.get("query_string", b"").decode("latin-1")
        params = {name: values[0] for name, values in parse_qs(query).items()}
        requested = locales.match(params.get("lang"))
        if requested and requested in self.pages:
            wanted = requested
        elif path in self.by_path and path != "/":
            wanted = self.by_path[path]
        else:
            wanted = locales.negotiate(None, headers.get("accept-language"), self.default)
            wanted = wanted if wanted in self.pages else self.default
        asked = query
        if path == WIDGET_PATH:
            query = embedded_query(query)
        if "title" in params and headers.get("sec-fetch-dest") == "document":
            query = untitled_query(query)  # the widget's title is for frames only
            del params["title"]
        target = page_path(wanted, self.default)
        if target != path or query != asked:
            root = scope.get("root_path", "").rstrip("/")
            location = root + target + (f"?{query}" if query else "")
            await _redirect(send, location)
            return
        page = self.pages[wanted]
        widget = WidgetOptions.from_query(params)
        if widget.embedded:
            title = widget.title or page.title
            page = PageInfo(page.locale, title, page.direction, (("data-embed", EMBED_VALUE),))
        await self._serve(scope, receive, send, page, headers)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, page: PageInfo, headers: Headers
    ) -> None:
        accepts_gzip = "gzip" in headers.get("accept-encoding", "")
        # Ask Gradio for the page uncompressed, so it can be rewritten.
        plain_scope = dict(scope)
        plain_scope["headers"] = [
            (name, value) for name, value in scope["headers"] if name != b"accept-encoding"
        ]
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(plain_scope, receive, capture)
        body = b"".join(chunks)
        response_headers = MutableHeaders(raw=list(start.get("headers", [])))
        if start.get("status") == 200 and "text/html" in response_headers.get("content-type", ""):
            root = scope.get("root_path", "")
            body = rewrite(body, page, self.head(root))
            response_headers["Content-Language"] = page.locale
            response_headers["Vary"] = "Accept-Language, Accept-Encoding"
            if accepts_gzip:
                body = gzip.compress(body, 6)
                response_headers["Content-Encoding"] = "gzip"
            response_headers["Content-Length"] = str(len(body))
        await send({**start, "headers": response_headers.raw})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )


def rewrite(html: bytes, page: PageInfo, head: str) -> bytes:
    """``<html lang dir>``, the title and the accessibility head, written into Gradio's page."""
    gradio_lang = GRADIO_LOCALES.get(page.locale, page.locale)
    more = "".join(f' {name}="{escape(value)}"' for name, value in page.attributes)
    attributes = (
        f' lang="{page.locale}" dir="{page.direction}" data-gradio-lang="{gradio_lang}"{more}'
    ).encode()

    def opening(match: re.Match[bytes]) -> bytes:
        tag = _LANG_OR_DIR.sub(b"", match.group(0))
        return tag[:5] + attributes + tag[5:]

    html = _HTML_TAG.sub(opening, html, count=1)
    # Gradio would set the title of the default page on every page; ours is per language.
    html = html.replace(b'control_page_title="true"', b'control_page_title="false"', 1)
    addition = f"<title>{escape(page.title)}</title>{head}".encode()
    return _HEAD_START.sub(lambda match: match.group(0) + addition, html, count=1)


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 307,
            "headers": [
                (b"location", location.encode("latin-1", "replace")),
                (b"vary", b"Accept-Language"),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
