"""One page per language: which page a request gets, and the page's language in its HTML."""

import gzip

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

import locales
from accessibility import head
from portal.pages import LocalizedPages, page_path

pytestmark = pytest.mark.anyio

# The start of the page Gradio 6.31 serves (frontend/index.html), as Gradio writes it.
GRADIO_PAGE = """<!doctype html>
<html
\tlang="en"
\tstyle="margin: 0;"
>
\t<head>
\t\t<meta charset="utf-8" />
\t\t<base href="./" />
\t</head>
\t<body><gradio-app control_page_title="true" embed="false"></gradio-app></body>
</html>"""


def gradio_like_app() -> Starlette:
    async def page(request):
        return HTMLResponse(GRADIO_PAGE)

    async def config(request):
        return JSONResponse({"encoding": request.headers.get("accept-encoding", "")})

    paths = [page_path(code, "zh-CN") for code in locales.available()]
    return Starlette(routes=[Route(p, page) for p in paths] + [Route("/config", config)])


@pytest.fixture
async def client():
    app = LocalizedPages(gradio_like_app(), default="zh-CN", codes=locales.available(), head=head)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        yield client


@pytest.mark.parametrize(
    ("path", "accept", "location"),
    [
        ("/?lang=en", None, "/en?lang=en"),
        ("/", "ar,en;q=0.5", "/ar"),
        ("/", "zh-TW", "/zh-HK"),
        ("/?lang=lo&mode=elder&contrast=high", "en", "/lo?lang=lo&mode=elder&contrast=high"),
        ("/en?lang=zh-CN", None, "/?lang=zh-CN"),
        ("/en?lang=zh_hk", None, "/zh-HK?lang=zh_hk"),
        # the widget: the resident's page, marked as the widget, with what the host asked
        ("/widget?lang=en&title=x", None, "/en?lang=en&title=x&embed=widget"),
        ("/widget", "ar,en;q=0.5", "/ar?embed=widget"),
        ("/widget?embed=other", None, "/?embed=widget"),
        ("/en?lang=fr&embed=widget&agent=pension", None, "/fr?lang=fr&embed=widget&agent=pension"),
    ],
)
async def test_requests_are_sent_to_their_languages_page(client, path, accept, location):
    headers = {"accept-language": accept} if accept else {}
    reply = await client.get(path, headers=headers)
    assert reply.status_code == 307 and reply.headers["location"] == location
    assert "Accept-Language" in reply.headers["vary"]


@pytest.mark.parametrize(
    ("path", "accept"),
    [("/", None), ("/", "xx"), ("/?lang=zh-CN", "en"), ("/en", "ar"), ("/ar?lang=nope", None)],
)
async def test_a_page_already_in_the_wanted_language_is_served(client, path, accept):
    headers = {"accept-language": accept} if accept else {}
    assert (await client.get(path, headers=headers)).status_code == 200


async def test_the_page_carries_its_language_direction_title_and_accessibility_head(client):
    reply = await client.get("/ar")
    html = reply.text
    assert html.startswith('<!doctype html>\n<html lang="ar" dir="rtl" data-gradio-lang="ar"')
    assert 'style="margin: 0;"' in html and 'lang="en"' not in html
    assert reply.headers["content-language"] == "ar"
    # the charset stays first; the title and the boot script come before anything is drawn
    head_start = html.index("<meta charset")
    assert html.index("<title>مساعد الخدمات الحكومية</title>") > head_start
    assert html.index("gov-assistant.a11y") < html.index("<body")
    assert html.index("portal.css?v=") < html.index("<body")
    assert 'control_page_title="false"' in html
    hk = (await client.get("/zh-HK")).text
    assert 'lang="zh-HK" dir="ltr" data-gradio-lang="zh-TW"' in hk


async def test_the_page_is_compressed_when_the_browser_accepts_it(client):
    reply = await client.get("/en", headers={"accept-encoding": "gzip"})
    assert reply.headers["content-encoding"] == "gzip"
    assert int(reply.headers["content-length"]) < len(reply.content)  # httpx has unpacked it
    raw = await client.get("/en", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert gzip.compress(raw.content)  # the same page, plain


async def test_other_paths_pass_through_untouched(client):
    reply = await client.get("/config", headers={"accept-encoding": "br"})
    assert reply.json() == {"encoding": "br"}
    assert (await client.post("/en")).status_code == 405


async def test_the_widget_page_says_it_is_embedded_and_takes_its_title_from_the_url(client):
    widget = await client.get("/en?embed=widget&title=%3Cb%3EPensions%3C/b%3E%20%20desk")
    assert '<html lang="en" dir="ltr" data-gradio-lang="en" data-embed="widget"' in widget.text
    assert "<title>&lt;b&gt;Pensions&lt;/b&gt; desk</title>" in widget.text
    untitled = (await client.get("/ar?embed=widget")).text
    assert '<html lang="ar" dir="rtl" data-gradio-lang="ar" data-embed="widget"' in untitled
    assert "<title>مساعد الخدمات الحكومية</title>" in untitled
    # a portal page takes no title from its URL
    portal = (await client.get("/en?title=x")).text
    assert "data-embed" not in portal and "<title>Government Services Assistant</title>" in portal


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/widget?lang=en&title=Call%20555", "/en?lang=en&embed=widget"),
        ("/en?embed=widget&title=Call%20555&agent=x", "/en?embed=widget&agent=x"),
    ],
)
async def test_a_title_is_kept_only_in_a_frame(client, path, location):
    """A link opened in a window of its own cannot put words in the page's heading."""
    top_level = await client.get(path, headers={"sec-fetch-dest": "document"})
    assert top_level.status_code == 307 and top_level.headers["location"] == location
    framed = await client.get(path, headers={"sec-fetch-dest": "iframe"}, follow_redirects=True)
    assert "<title>Call 555</title>" in framed.text
