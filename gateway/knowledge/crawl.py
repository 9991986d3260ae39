"""``gateway kb crawl``: a government site's pages and documents, fetched into a folder that
the knowledge base then reads, with a ``sources.csv`` so every file keeps its URL.

The crawl is polite: it reads each site's robots.txt (protego) and obeys it and its
``Crawl-delay``, waits ``delay`` seconds between two requests to one site, stops after
``max_pages`` saved files, fetches only hosts of the allowed domains (a redirect or link
elsewhere is not followed), honours ``<meta name="robots">`` ``noindex``/``nofollow``, and
reads no reply beyond ``max_bytes``. It speaks HTTP through the gateway's one client factory
(gateway/http.py).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx
from protego import Protego

from gateway.config import HttpConfig
from gateway.http import create_client
from gateway.knowledge.readers import SOURCES_FILE

USER_AGENT = "gov-assistant-kb-crawler/0.1"
#: File suffix by media type: what the knowledge base reads.
SUFFIXES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/csv": ".csv",
    "text/markdown": ".md",
    "text/plain": ".txt",
}
#: Links to these are not fetched at all: the base cannot read them.
SKIPPED_SUFFIXES = re.compile(
    r"\.(jpe?g|png|gif|svg|webp|ico|css|js|mp[34]|avi|mov|zip|rar|7z|exe|apk|dmg)$", re.I
)


@dataclass(frozen=True)
class CrawlOptions:
    #: Domains whose hosts may be fetched (``example.org`` allows ``www.example.org``).
    allow: Sequence[str]
    max_pages: int = 200
    #: Seconds between two requests to one site; robots.txt's Crawl-delay when longer.
    delay: float = 1.0
    max_bytes: int = 50_000_000
    user_agent: str = USER_AGENT
    timeout: float = 30.0


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def redirect(self) -> str | None:
        return self.headers.get("location") if 300 <= self.status < 400 else None


@dataclass
class CrawlResult:
    #: ``(url, file name)`` of each file saved.
    saved: list[tuple[str, str]] = field(default_factory=list)
    #: ``(url, why)`` of each address not saved.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def allowed(url: str, domains: Sequence[str]) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        return False
    return any(host == d or host.endswith("." + d) for d in (d.lower().strip(".") for d in domains))


async def crawl(
    start: Sequence[str],
    out: Path,
    options: CrawlOptions,
    http: HttpConfig | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> CrawlResult:
    """Fetch from ``start`` breadth first into ``out``; ``progress`` gets a line per address."""
    out.mkdir(parents=True, exist_ok=True)
    result = CrawlResult()
    queue = deque(urldefrag(url)[0] for url in start)
    seen = set(queue)
    robots: dict[str, Protego | None] = {}
    last_request: dict[str, float] = {}
    listing = _read_listing(out / SOURCES_FILE)
    headers = {"User-Agent": options.user_agent}

    def skip(url: str, why: str) -> None:
        result.skipped.append((url, why))
        progress(f"skipped {url}: {why}")

    async with create_client(
        http or HttpConfig(), headers=headers, timeout=options.timeout
    ) as client:

        async def get(url: str) -> Fetched | str:
            """The reply (body read up to ``max_bytes``), or why there is none."""
            origin = _origin(url)
            rules = robots.get(origin)
            delay = max(options.delay, (rules.crawl_delay(options.user_agent) or 0) if rules else 0)
            wait = last_request.get(origin, -1e9) + delay - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                async with client.stream("GET", url) as response:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body.extend(chunk)
                        if len(body) > options.max_bytes:
                            return f"over {options.max_bytes} bytes; not read"
                    return Fetched(response.status_code, response.headers, bytes(body))
            except httpx.HTTPError as exc:
                return f"unreachable ({type(exc).__name__}: {exc})"
            finally:
                # From the end of one reply: a slow site is given its delay in full.
                last_request[origin] = time.monotonic()

        while queue and len(result.saved) < options.max_pages:
            url = queue.popleft()
            why = await _refusal(url, options, robots, get)
            if why is None:
                reply = await get(url)
                why = reply if isinstance(reply, str) else None
            if why is not None:
                skip(url, why)
                continue
            assert isinstance(reply, Fetched)
            if reply.redirect:
                target = urldefrag(urljoin(url, reply.redirect))[0]
                skip(url, f"redirects to {target}")
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
                continue
            if reply.status >= 400:
                skip(url, f"HTTP {reply.status}")
                continue
            suffix = _suffix(url, reply.headers.get("content-type", ""))
            if suffix is None:
                why = f"not a kind the base reads ({reply.headers.get('content-type', 'no type')})"
                skip(url, why)
                continue
            index, follow = True, True
            if suffix == ".html":
                links, index, follow = _links(reply.body, url)
                for link in links if follow else []:
                    if link not in seen and not SKIPPED_SUFFIXES.search(urlsplit(link).path):
                        seen.add(link)
                        queue.append(link)
            if not index:
                skip(url, "the page asks not to be indexed (noindex)")
                continue
            name = _file_name(url, suffix)
            (out / name).write_bytes(reply.body)
            listing[name] = url
            result.saved.append((url, name))
            progress(f"saved {url} → {name}")
    for url in queue:
        skip(url, f"not fetched: the page cap ({options.max_pages}) was reached")
    _write_listing(out / SOURCES_FILE, listing)
    return result


async def _refusal(
    url: str,
    options: CrawlOptions,
    robots: dict[str, Protego | None],
    get: Callable[[str], Awaitable[Fetched | str]],
) -> str | None:
    """Why ``url`` must not be fetched, or None."""
    if not allowed(url, options.allow):
        return "not in an allowed domain"
    origin = _origin(url)
    if origin not in robots:
        robots[origin] = None  # the request for robots.txt itself is not checked against it
        reply = await get(origin + "/robots.txt")
        if isinstance(reply, str) or reply.status >= 500:
            # RFC 9309: robots.txt unreachable or a server error: the whole site is disallowed.
            robots[origin] = Protego.parse("User-agent: *\nDisallow: /")
        elif reply.status < 300:
            robots[origin] = Protego.parse(reply.body.decode("utf-8", "replace"))
        # A 4xx (no robots.txt): everything is allowed.
    rules = robots[origin]
    if rules is not None and not rules.can_fetch(url, options.user_agent):
        return "disallowed by robots.txt"
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _suffix(url: str, content_type: str) -> str | None:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in SUFFIXES:
        return SUFFIXES[media]
    # Servers often send documents as application/octet-stream: the address says what it is.
    path_suffix = Path(urlsplit(url).path).suffix.lower()
    known = set(SUFFIXES.values()) | {".htm"}
    return path_suffix if path_suffix in known else None


def _links(body: bytes, url: str) -> tuple[list[str], bool, bool]:
    """The page's ``<a href>`` links, absolute and without fragments, and whether its robots
    meta tag lets it be indexed and its links followed."""
    import lxml.html
    from lxml.etree import ParserError

    try:
        document = lxml.html.document_fromstring(body, base_url=url)
    except (ParserError, ValueError):
        return [], True, True
    meta = " ".join(
        element.get("content", "").lower()
        for element in document.iter("meta")
        if element.get("name", "").lower() == "robots"
    )
    document.make_links_absolute(url, resolve_base_href=True, handle_failures="discard")
    links = []
    for element, attribute, link, _ in document.iterlinks():
        if element.tag == "a" and attribute == "href" and "nofollow" not in element.get("rel", ""):
            links.append(urldefrag(link)[0])
    return links, "noindex" not in meta, "nofollow" not in meta


def _file_name(url: str, suffix: str) -> str:
    """A readable, unique name: the address's path as a slug and a short hash of the URL."""
    parts = urlsplit(url)
    path = Path(parts.path)
    stem = path.with_suffix("").as_posix() if path.suffix.lower() == suffix else parts.path
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{parts.hostname}-{stem}").strip("-").lower()[:60]
    digest = hashlib.sha1(url.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}{suffix}"


def _read_listing(path: Path) -> dict[str, str]:
    """The URL of each file an earlier crawl saved, so a crawl adds to a folder."""
    if not path.is_file():
        return {}
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    return {row["file"]: row.get("url") or "" for row in rows if row.get("file")}


def _write_listing(path: Path, listing: dict[str, str]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["file", "url", "title"])
    for name in sorted(listing):
        # No title: each document's own (<title>, <h1>, its metadata) is read with it.
        writer.writerow([name, listing[name], ""])
    path.write_text(buffer.getvalue(), encoding="utf-8")
