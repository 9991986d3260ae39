"""A word-for-word translator for the test servers: small bilingual phrase lists, longest
phrase first, words it does not know copied through. It knows nothing of the gateway's
glossary, so official terms come out right only if the gateway protected them."""

from __future__ import annotations

import re

PHRASES: dict[tuple[str, str], dict[str, str]] = {
    ("en", "zh"): {
        "i lost my": "丢了",
        "how do i replace it": "怎么补办",
        "how do i apply for": "怎么申请",
        "can i get": "可以办",
        "where is the": "在哪里",
        "what do i need for": "需要什么",
        "my": "我的",
        "?": "？",
        ".": "。",
    },
    ("zh", "en"): {
        "网上补证": "Replace online",
        "窗口补证": "Replace at a service window",
        "损坏换证": "Replace a damaged license",
        "费用": "Fee",
        "申请补领": "apply for a replacement",
        "遗失补证指南": "guide to replacing a lost",
        "（示例）": "(sample)",
        "怎么办理": "how to apply",
        "办理": "apply",
        "在": "on",
        "上": "",
        "带": "bring",
        "到": "to",
        "或": "or",
        "和": "and",
        "：": ":",
        "，": ",",
        "。": ".",
        "？": "?",
    },
    ("ko", "zh"): {"신청하려면": "申请", "무엇이 필요합니까": "需要什么", "을": "", "를": ""},
    ("zh", "ko"): {"怎么办理": "신청 방법", "带": "지참", "到": "방문", "。": ".", "，": ","},
}

_PLACEHOLDER = re.compile(r"ZQ\d+")
_SPACED = {"en", "ko", "ru", "vi", "fr", "es"}


def translate(text: str, source: str, target: str) -> str:
    phrases = PHRASES.get((source, target))
    if phrases is None:
        raise KeyError(f"{source} → {target}")
    keys = sorted(phrases, key=len, reverse=True)
    out: list[str] = []
    position = 0
    lowered = text.lower()
    while position < len(text):
        placeholder = _PLACEHOLDER.match(text, position)
        if placeholder:
            out.append(placeholder.group(0))
            position = placeholder.end()
            continue
        for key in keys:
            if lowered.startswith(key, position) and _word_edge(text, position + len(key)):
                if phrases[key]:
                    out.append(phrases[key])
                position += len(key)
                break
        else:
            char = text[position]
            position += 1
            if char.isspace():
                continue
            if out and _joins(out[-1], char):
                out[-1] += char
            else:
                out.append(char)
    joiner = " " if target in _SPACED else ""
    joined = joiner.join(out)
    return re.sub(r" ([,.:?!])", r"\1", joined)


def _word_edge(text: str, end: int) -> bool:
    # "my" must not match the start of "myself"; Chinese has no word edges.
    return end >= len(text) or not (text[end - 1].isascii() and text[end].isalnum())


def _joins(previous: str, char: str) -> bool:
    """Whether an unknown character continues the previous unknown word."""
    return bool(previous) and previous[-1].isalnum() and char.isalnum()
