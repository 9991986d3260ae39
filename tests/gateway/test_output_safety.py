"""Output cleaning: Markdown and HTML from back ends, citation addresses, plain-text fields."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from gateway.safety.output import plain_text, safe_url, sanitize_markdown


def rendered(markdown: str) -> str:
    """HTML as a permissive Markdown renderer (raw HTML on, every link allowed) would make it."""
    parser = MarkdownIt("commonmark", {"html": True})
    parser.validateLink = lambda url: True
    return parser.render(markdown).lower()


HOSTILE = [
    "<script>alert(1)</script>",
    "正文 <script>alert(1)</script> 后文",
    "<style>body{display:none}</style>",
    "<iframe src='https://evil.example'></iframe>",
    '<img src=x onerror="alert(1)">',
    '<div onclick="alert(1)">点我</div>',
    '<a href="javascript:alert(1)">链接</a>',
    "[链接](javascript:alert(1))",
    "[链接](JAVASCRIPT:alert(1))",
    "[链接](java&#115;cript:alert(1))",
    "[链接]( javascript:alert(1) )",
    "![图](data:text/html;base64,PHNjcmlwdD4=)",
    "[链接](data:text/html,<script>alert(1)</script>)",
    "<javascript:alert(1)>",
    "[x][1]\n\n[1]: javascript:alert(1)",
    "<svg onload=alert(1)>",
    '<object data="x.swf"></object><embed src="x.swf">',
    "<div>\n<script>alert(1)</script>\n[x](javascript:alert(2))\n</div>",
    "<<script>script>alert(1)<</script>/script>",
]


@pytest.mark.parametrize("markdown", HOSTILE)
def test_nothing_executable_survives(markdown):
    html = rendered(sanitize_markdown(markdown))
    for bad in ("<script", "<style", "<iframe", "<object", "<embed", "<svg"):
        assert bad not in html, (bad, html)
    assert not re.search(r"(href|src|data)\s*=\s*[\"']?\s*(javascript|data|vbscript):", html), html
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html), html


@pytest.mark.parametrize(
    "markdown",
    [
        "办理居住证需要：\n\n1. 身份证\n2. 居住证明\n\n详见 [办事指南](https://zwfw.example.org/a?x=1&y=2)。",
        "年龄<60岁且收入>3000元的，可以申请。",
        "> 温馨提示：请带原件。\n\n`a<b` 是代码",
        "**注意**：邮件请发 [信箱](mailto:help@example.gov.cn)，电话 [12345](tel:12345)。",
        "| 项目 | 材料 |\n|---|---|\n| 居住证 | 身份证 |",
    ],
)
def test_ordinary_markdown_is_left_exactly_as_written(markdown):
    assert sanitize_markdown(markdown) == markdown


def test_words_survive_cleaning():
    cleaned = sanitize_markdown(
        '请带<b onclick="x()">身份证</b>和<span>户口本</span>，见[指南](javascript:x)'
    )
    assert "身份证" in cleaned and "户口本" in cleaned and "指南" in cleaned
    assert "onclick" not in cleaned and "javascript" not in cleaned


def test_line_breaks_in_tables_stay():
    assert "<br>" in sanitize_markdown("| a | 第一行<br/>第二行 |")


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://zwfw.example.org/guide?id=1", True),
        ("http://zwfw.example.org/", True),
        ("javascript:alert(1)", False),
        ("data:text/html,x", False),
        ("file:///etc/passwd", False),
        ("ftp://example.org/x", False),
        ("https://", False),
        ("https://exa mple.org/", False),
        ("//evil.example/x", False),
        ("/relative/path", False),
        ("", False),
    ],
)
def test_citation_addresses_are_http_only(url, kept):
    assert safe_url(url) == (url if kept else "")


def test_titles_and_snippets_become_plain_text():
    assert plain_text("<b>居住证</b> &amp; <script>alert(1)</script>指南") == "居住证 & 指南"
    assert "<" not in plain_text("&lt;script&gt;alert(1)&lt;/script&gt;")


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_characters="<[&", blacklist_categories=["Cs"])))
def test_an_answer_without_angle_bracket_square_bracket_or_ampersand_holds_no_markup(text):
    # Why sanitize_markdown returns such an answer without parsing it: CommonMark finds no
    # HTML, link, image or tag-like text in it, as the permissive parser reads it.
    parser = MarkdownIt("commonmark", {"html": True})
    parser.validateLink = lambda url: True
    flat = []
    for token in parser.parse(text):
        flat.append(token)
        flat.extend(token.children or [])
    kinds = {token.type for token in flat}
    assert not kinds & {"html_block", "html_inline", "link_open", "image"}
    assert not any("<" in token.content for token in flat if token.type == "text")
    assert sanitize_markdown(text) == text
