"""Plain text from Markdown, for read-aloud and screen readers: the words without the symbols."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark")


def markdown_to_text(markdown: str) -> str:
    """Each block on its own line; list items keep their numbers; links keep their words."""
    lines: list[str] = []
    counters: list[int | None] = []
    prefix = ""
    for token in _parser().parse(markdown):
        if token.type == "ordered_list_open":
            counters.append(int(token.attrs.get("start", 1) or 1))
        elif token.type == "bullet_list_open":
            counters.append(None)
        elif token.type in ("ordered_list_close", "bullet_list_close"):
            counters.pop()
        elif token.type == "list_item_open" and counters:
            number = counters[-1]
            if number is None:
                prefix = "• "
            else:
                prefix = f"{number}. "
                counters[-1] = number + 1
        elif token.type == "inline":
            words = _inline_text(token.children or [])
            if words:
                lines.append(prefix + words)
            prefix = ""
        elif token.type in ("fence", "code_block"):
            lines.extend(line for line in token.content.splitlines() if line.strip())
    return "\n".join(lines)


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts).strip()
