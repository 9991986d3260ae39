"""``gateway kb crawl`` against a government site served on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from gateway.cli import main
from gateway.knowledge.crawl import CrawlOptions, allowed, crawl
from gateway.knowledge.entries import load
from tests.gateway.knowledge import files
from tests.servers import serve

HOME = """<html><head><meta charset="utf-8"><title>示例市政务服务网</title></head><body>
<nav><a href="/">首页</a></nav><main><h1>办事指南</h1>
<ul><li><a href="/guide/rp#top">居住证申领</a></li><li><a href="/guide/gbk">护照办理</a></li>
<li><a href="/docs/policy.pdf">居留许可办法</a></li><li><a href="/private/drafts">内部</a></li>
<li><a href="http://elsewhere.example/news">外站</a></li><li><a href="/img/logo.png">标志</a></li>
<li><a href="/missing">失效链接</a></li><li><a href="/old">旧地址</a></li>
<li><a href="/hidden">不收录</a></li></ul></main></body></html>"""
GUIDE = """<html><head><meta charset="utf-8"><title>居住证申领指南</title></head><body>
<nav><a href="/">首页</a></nav><main><h1>居住证申领指南</h1><h2>办理条件</h2>
<p>在居住地居住半年以上，有合法稳定就业或住所的，可以申领居住证。</p></main></body></html>"""
GBK_PAGE = """<html><head><meta charset="gbk"><title>护照办理</title></head><body><main>
<h1>护照办理</h1><h2>所需材料</h2><p>申请普通护照须提交居民身份证和近期免冠照片，到出入境窗口办理。</p>
</main></body></html>"""
HIDDEN = """<html><head><meta name="robots" content="noindex"><title>草稿</title></head>
<body><main><p>这一页不应收录到知识库中，但可以跟随链接。</p></main></body></html>"""


@dataclass
class Site:
    url: str
    requests: list[tuple[str, float]] = field(default_factory=list)
    robots: str = "User-agent: *\nDisallow: /private/\n"
    robots_status: int = 200

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@pytest.fixture
def site(tmp_path_factory) -> Iterator[Site]:
    pdf = files.pdf(
        tmp_path_factory.mktemp("site") / "policy.pdf",
        ["一、申请条件\n持有效护照和工作许可的外国人，可以申请居留许可。"],
    )
    app = FastAPI()
    state = Site("")

    @app.get("/{path:path}")
    async def page(request: Request) -> Response:
        path = request.url.path
        state.requests.append((path, time.monotonic()))
        if path == "/robots.txt":
            return PlainTextResponse(state.robots, status_code=state.robots_status)
        if path == "/":
            return HTMLResponse(HOME)
        if path == "/guide/rp":
            return HTMLResponse(GUIDE)
        if path == "/guide/gbk":
            return Response(GBK_PAGE.encode("gbk"), media_type="text/html")
        if path == "/docs/policy.pdf":
            return Response(pdf.read_bytes(), media_type="application/octet-stream")
        if path == "/old":
            return RedirectResponse("/guide/rp", status_code=301)
        if path == "/hidden":
            return HTMLResponse(HIDDEN)
        return PlainTextResponse("not found", status_code=404)

    with serve(app) as url:
        state.url = url
        yield state


def options(**changes) -> CrawlOptions:
    return CrawlOptions(**{"allow": ["127.0.0.1"], "delay": 0.0, **changes})


@pytest.mark.anyio
async def test_a_site_is_crawled_into_a_folder_the_base_reads(site: Site, tmp_path: Path):
    result = await crawl([site.url + "/"], tmp_path, options(delay=0.15))
    saved = sorted(url.removeprefix(site.url) for url, _ in result.saved)
    assert saved == ["/", "/docs/policy.pdf", "/guide/gbk", "/guide/rp"]
    skipped = {url.removeprefix(site.url): why for url, why in result.skipped}
    assert skipped["/private/drafts"] == "disallowed by robots.txt"
    assert skipped["http://elsewhere.example/news"] == "not in an allowed domain"
    assert skipped["/missing"] == "HTTP 404"
    assert skipped["/old"] == f"redirects to {site.url}/guide/rp"
    assert skipped["/hidden"] == "the page asks not to be indexed (noindex)"
    # Never asked for: refused by robots.txt, or not a kind the base reads.
    assert "/private/drafts" not in site.paths and "/img/logo.png" not in site.paths
    assert site.paths.count("/guide/rp") == 1 and site.paths[0] == "/robots.txt"
    gaps = [b - a for (_, a), (_, b) in zip(site.requests, site.requests[1:], strict=False)]
    assert min(gaps) >= 0.14, gaps

    knowledge = load([tmp_path])
    # The home page is a list of links: the reader finds no main content in it.
    (home,) = [name for url, name in result.saved if url == site.url + "/"]
    reported = {Path(r.file).name: r.problems for r in knowledge.sources if r.problems}
    empty = "empty: no main content found (a page of links only?)"
    assert reported == {home: [f"{tmp_path / home}: {empty}"]}
    by_title = {p.title: p for p in knowledge.passages}
    assert by_title["居住证申领指南"].url.startswith(site.url + "/guide/rp#")
    assert "出入境窗口" in by_title["护照办理"].text
    policy = next(p for p in knowledge.passages if p.file.endswith(".pdf"))
    assert policy.url == site.url + "/docs/policy.pdf#page=1"
    assert "居留许可" in policy.text


@pytest.mark.anyio
async def test_the_page_cap_stops_the_crawl(site: Site, tmp_path: Path):
    result = await crawl([site.url + "/"], tmp_path, options(max_pages=2))
    assert len(result.saved) == 2
    assert any("page cap (2)" in why for _, why in result.skipped)
    assert len(list(tmp_path.glob("*.html"))) == 2


@pytest.mark.anyio
async def test_a_failing_robots_txt_disallows_the_whole_site(site: Site, tmp_path: Path):
    site.robots_status = 503
    result = await crawl([site.url + "/"], tmp_path, options())
    assert not result.saved and result.skipped == [(site.url + "/", "disallowed by robots.txt")]
    assert site.paths == ["/robots.txt"]


@pytest.mark.anyio
async def test_a_crawl_adds_to_the_folder_of_an_earlier_one(site: Site, tmp_path: Path):
    await crawl([site.url + "/guide/rp"], tmp_path, options(max_pages=1))
    await crawl([site.url + "/guide/gbk"], tmp_path, options(max_pages=1))
    listing = (tmp_path / "sources.csv").read_text(encoding="utf-8").splitlines()
    assert listing[0] == "file,url,title" and len(listing) == 3
    assert {line.split(",")[1] for line in listing[1:]} == {
        site.url + "/guide/rp",
        site.url + "/guide/gbk",
    }


def test_only_hosts_of_allowed_domains_are_allowed():
    assert allowed("https://www.zwfw.example.org/a", ["zwfw.example.org"])
    assert allowed("https://zwfw.example.org/a", ["zwfw.example.org"])
    assert not allowed("https://evilzwfw.example.org/a", ["zwfw.example.org"])
    assert not allowed("ftp://zwfw.example.org/a", ["zwfw.example.org"])
    assert not allowed("https://zwfw.example.org.evil.com/", ["zwfw.example.org"])


def test_the_kb_commands_crawl_and_list_the_sources(site: Site, tmp_path: Path, capsys):
    out = tmp_path / "site"
    main(["kb", "crawl", site.url + "/guide/rp", "--allow", "127.0.0.1", "--out", str(out),
          "--delay", "0", "--max-pages", "1"])  # fmt: skip
    assert "1 file(s) saved" in capsys.readouterr().out
    (out / "scan.pdf").write_bytes(b"not a pdf")
    config = tmp_path / "gateway.toml"
    config.write_text(f'[knowledge]\npaths = ["{out}"]\n', encoding="utf-8")
    main(["kb", "sources", "--config", str(config)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "file\tkind\tentries\tpassages\tproblems"
    rows = {
        Path(line.split("\t")[0]).name: line.split("\t")[1:] for line in lines[1:] if "\t" in line
    }
    assert rows["sources.csv"] == ["sources", "0", "0", "0"]
    assert rows["scan.pdf"] == ["pdf", "0", "0", "1"]
    (page,) = [name for name in rows if name.endswith(".html")]
    assert rows[page] == ["html", "0", "1", "0"]
    assert any(line.startswith("  ") and "scan.pdf: not a readable PDF" in line for line in lines)
    assert lines[-1] == "3 file(s): 0 entries, 1 passages, 1 problem(s)"


def test_a_crawl_that_saves_nothing_fails(site: Site, tmp_path: Path, capsys):
    site.robots_status = 503
    with pytest.raises(SystemExit) as exited:
        main(["kb", "crawl", site.url + "/", "--allow", "127.0.0.1", "--out", str(tmp_path)])
    assert exited.value.code == 1 and "disallowed by robots.txt" in capsys.readouterr().out
