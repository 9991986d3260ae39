"""The widget: the portal drawn for a panel or frame on another government site.

Other sites point at ``/widget`` (``/widget?lang=en&title=…``), which ``portal.pages`` sends to
the page of the resident's language with ``embed=widget`` added to the query. A page asked for
with ``embed=widget`` is the same Gradio page as the portal's, marked ``data-embed`` on
``<html>``: the stylesheet then draws it for a small panel (no introduction, the elder-mode set
of elements), ``portal.js`` talks to the host page's loader (``/embed.js``, ``portal.embed``),
and two more parameters count, read here: ``title`` (the heading and the page's title, inside a
frame only) and ``agent`` (the assistant or service area its typed questions go to,
``ChatRequest.agent``).
The portal's own settings in the URL (``lang``, ``mode``, ``contrast``, ``size``) apply as
everywhere. docs/embedding.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from pydantic import TypeAdapter, ValidationError

from gateway.api.schemas import Identifier

#: The address other sites use.
WIDGET_PATH = "/widget"
#: The query parameter that makes a page the widget.
EMBED_PARAMETER, EMBED_VALUE = "embed", "widget"
#: Longer titles are cut: the heading shares a narrow panel with the hotline and the tools.
TITLE_LIMIT = 60

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_AGENT = TypeAdapter(Identifier)


@dataclass(frozen=True)
class WidgetOptions:
    """What the host site asked of the widget in its URL; nothing for a portal page."""

    embedded: bool = False
    title: str | None = None
    agent: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> WidgetOptions:
        """Options from a page's query parameters. A bad value is left out, never an error:
        a resident should not meet a broken page because a host mistyped."""
        if query.get(EMBED_PARAMETER) != EMBED_VALUE:
            return cls()
        title = " ".join(_CONTROL.sub(" ", query.get("title") or "").split())[:TITLE_LIMIT]
        try:
            agent = _AGENT.validate_python(query["agent"]) if query.get("agent") else None
        except ValidationError:
            agent = None
        return cls(embedded=True, title=title or None, agent=agent)


def embedded_query(query: str) -> str:
    """``query`` (a query string) with the widget's mark, which it may already carry."""
    return urlencode([*_without(query, EMBED_PARAMETER), (EMBED_PARAMETER, EMBED_VALUE)])


def untitled_query(query: str) -> str:
    """``query`` without a title. A title from a link opened in a window of its own would put
    words of anyone's choosing in the heading of a government page, so ``portal.pages`` keeps
    it only for pages framed by an allowed site (``Sec-Fetch-Dest: iframe``)."""
    return urlencode(_without(query, "title"))


def _without(query: str, name: str) -> list[tuple[str, str]]:
    return [(key, value) for key, value in parse_qsl(query) if key != name]
