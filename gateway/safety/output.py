"""Output safety: what a back end writes is made safe to display before a resident sees it.

Answers are Markdown. Every answer is parsed with markdown-it (the same parser as
:mod:`gateway.text`); only when it holds raw HTML, text that a laxer renderer would take for
a tag, or a link whose address is not http(s), ``mailto:`` or ``tel:`` is it changed, and then
from the parsed tokens, so Markdown itself (``a < b``, ``> quotes``, code) is never mistaken
for HTML:

- an HTML block is cleaned by nh3 (Ammonia): ``script``, ``style``, ``iframe`` … go with their
  content, event handlers and ``javascript:``/``data:`` addresses go; a small set of formatting
  tags stays;
- an inline HTML tag is dropped (``<br>`` stays), and the content of an inline
  ``<script>``/``<style>``/``<iframe>`` … element with it;
- a link or image with another address (``javascript:``, ``vbscript:``, ``data:`` — images
  included, no ``data:`` image is allowed —, ``file:``, relative …) keeps only its words; the
  address is read with its character references decoded until none is left
  (``javascript&colon;``, ``&#58;``, ``&#x3A;``, ``&amp;colon;``), as a browser would;
- text that looks like a tag but is none in CommonMark (``<svg/onload=…>``) has its ``<``
  written ``&lt;``, so neither a laxer Markdown renderer nor a client that puts the answer
  into a page as it is can make it one;

and the tokens are written back as Markdown by mdformat. Citation addresses are http(s) only;
their titles and snippets are plain text.
"""

from __future__ import annotations

import html
import re
from functools import cache

import httpx
import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdformat.renderer import MDRenderer

#: Tags an HTML block keeps (with nh3's default safe attributes for them).
BLOCK_TAGS = {
    "b", "strong", "i", "em", "u", "s", "sub", "sup", "br", "p", "div", "span",
    "ul", "ol", "li", "code", "pre", "blockquote", "table", "thead", "tbody", "tr", "th", "td",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "hr",
}  # fmt: skip
#: Elements whose content goes with them.
DROPPED_WITH_CONTENT = {
    "script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math",
    "textarea", "select", "frame", "frameset", "applet", "title", "xmp", "noembed",
}  # fmt: skip
LINK_SCHEMES = {"http", "https", "mailto", "tel"}
_INLINE_OPEN = re.compile(r"<\s*([a-zA-Z][a-zA-Z0-9-]*)")
_INLINE_CLOSE = re.compile(r"<\s*/\s*([a-zA-Z][a-zA-Z0-9-]*)")
_BREAK = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
#: Text a renderer with raw HTML on might take for a tag (mdformat escapes its ``<``).
_LOOKS_LIKE_TAG = re.compile(r"<[A-Za-z/!?]")


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark")
    # Every address is parsed as a link here, so that a dangerous one can be found and removed
    # (markdown-it's own check would leave it as text that a laxer renderer might still link).
    parser.validateLink = lambda url: True  # type: ignore[method-assign]
    return parser


#: Character references are decoded at most this many times (``&amp;amp;colon;`` …); an address
#: still holding one after that is refused.
DECODINGS = 8


def safe_link(url: str) -> bool:
    """Whether a Markdown link may point at ``url``: http(s), mailto: or tel: only."""
    for _ in range(DECODINGS):
        decoded = html.unescape(url)
        if decoded == url:
            break
        url = decoded
    else:
        return False
    cleaned = re.sub(r"[\x00-\x20\x7f]+", "", url).lower()
    scheme, colon, _ = cleaned.partition(":")
    return bool(colon) and scheme in LINK_SCHEMES and "/" not in scheme


#: What every unsafe token needs in the answer's own text: HTML and autolinks a ``<``, links
#: and images a ``[`` (the CommonMark preset links no bare addresses), text that decodes to a
#: tag a ``<`` or a character reference's ``&``. Most answers have none of them and are not
#: parsed at all (a parse is most of what an answer without markup costs).
_MARKUP_NEEDS = re.compile(r"[<\[&]")

#: Cleaning can uncover Markdown (an HTML block that loses its tags is read as a paragraph
#: again), so it is repeated until nothing is left to clean, at most this many times.
ROUNDS = 4


def sanitize_markdown(text: str) -> str:
    """``text`` safe to render; returned unchanged when nothing in it needs cleaning. Every
    answer goes through here, whatever characters it holds (an entity needs neither ``:`` nor
    ``<``)."""
    if not _MARKUP_NEEDS.search(text):
        return text
    parser = _parser()
    for _ in range(ROUNDS):
        tokens = parser.parse(text)
        if not any(_unsafe(token) for token in _walk(tokens)):
            return text
        for token in tokens:
            if token.type == "html_block":
                token.content = _clean_block(token.content)
            elif token.children:
                token.children = _clean_inline(token.children)
        written = MDRenderer().render(tokens, parser.options, {}).rstrip("\n")
        if written == text:
            return text  # what is left is escaped text that only looks like a tag
        text = written
    # Still not clean: every ASCII punctuation mark escaped, so no markup is left at all.
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def _walk(tokens: list[Token]) -> list[Token]:
    flat: list[Token] = []
    for token in tokens:
        flat.append(token)
        if token.children:
            flat.extend(_walk(token.children))
    return flat


def _unsafe(token: Token) -> bool:
    if token.type == "html_block":
        return _clean_block(token.content).strip() != token.content.strip()
    if token.type == "html_inline":
        return token.content != "<br>"
    if token.type == "link_open":
        return not safe_link(str(token.attrs.get("href", "")))
    if token.type == "image":
        return not safe_link(str(token.attrs.get("src", "")))
    if token.type == "text":
        return _LOOKS_LIKE_TAG.search(token.content) is not None
    return False


def _clean_block(content: str) -> str:
    cleaned = nh3.clean(
        content,
        tags=BLOCK_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        url_schemes=LINK_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return cleaned.rstrip("\n") + "\n" if cleaned.strip() else ""


def _clean_inline(children: list[Token]) -> list[Token]:
    kept: list[Token] = []
    dropping: str | None = None  # inside an element whose content goes with it
    open_links: list[bool] = []  # for each open link: whether it was dropped
    for token in children:
        if dropping is not None:
            closing = _INLINE_CLOSE.match(token.content) if token.type == "html_inline" else None
            if closing and closing.group(1).lower() == dropping:
                dropping = None
            continue
        if token.type == "html_inline":
            opening = _INLINE_OPEN.match(token.content)
            if opening and opening.group(1).lower() in DROPPED_WITH_CONTENT:
                if not token.content.rstrip().endswith("/>"):
                    dropping = opening.group(1).lower()
            elif _BREAK.fullmatch(token.content.strip()):
                token.content = "<br>"
                kept.append(token)
            continue
        if token.type == "link_open":
            unsafe = not safe_link(str(token.attrs.get("href", "")))
            open_links.append(unsafe)
            if not unsafe:
                kept.append(token)
            continue
        if token.type == "link_close":
            if not (open_links and open_links.pop()):
                kept.append(token)
            continue
        if token.type == "image" and not safe_link(str(token.attrs.get("src", ""))):
            kept.append(_token("text", token.content))
            continue
        if token.type == "text" and _LOOKS_LIKE_TAG.search(token.content):
            kept.extend(_escaped_tags(token.content))
            continue
        kept.append(token)
    return kept


def _escaped_tags(text: str) -> list[Token]:
    """``text`` with each ``<`` before a letter written ``&lt;``: Markdown's own escape
    (``\\<``) protects only from Markdown renderers, and a client that puts the answer into a
    page as it is would still make ``<svg/onload=…>`` an element."""
    tokens: list[Token] = []
    start = 0
    for found in _LOOKS_LIKE_TAG.finditer(text):
        if found.start() > start:
            tokens.append(_token("text", text[start : found.start()]))
        tokens.append(_token("html_inline", "&lt;"))  # written out as it is by mdformat
        start = found.start() + 1
    tokens.append(_token("text", text[start:]))
    return tokens


def _token(kind: str, content: str) -> Token:
    token = Token(kind, "", 0)
    token.content = content
    return token


def safe_url(url: str) -> str:
    """``url`` when it is a well-formed http(s) address, otherwise empty."""
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        return ""
    if re.search(r"[\x00-\x20\x7f<>\"]", url):
        return ""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return ""
    return url if parsed.scheme in ("http", "https") and parsed.host else ""


def plain_text(text: str) -> str:
    """A citation's title or snippet as plain text: tags (and script/style content) removed,
    entities decoded, and any ``<``/``>`` left made harmless."""
    if "<" in text or "&" in text:
        text = html.unescape(nh3.clean(text, tags=set(), clean_content_tags=DROPPED_WITH_CONTENT))
    return text.replace("<", "‹").replace(">", "›")
