"""Prompt-injection screening: questions that try to make a language model drop its instructions,
play another role, or reveal its system prompt.

The patterns are matched against the text as :mod:`gateway.safety.normalize` leaves it folded
(width, case, Traditional → Simplified) but with spaces kept, so ``ＩＧＮＯＲＥ previous
instructions`` and 忽略之前的指令 / 忽略之前的指示 are all caught. Operators add their own
patterns (``[safety] injection_patterns``). What happens to a question that matches is
configured (``[safety] injection_action``, docs/safety.md); it only matters on routes with a
back end that writes with a language model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import opencc

_t2s = opencc.OpenCC("t2s")

#: (name, pattern). Names go into the audit log; keep them stable.
PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "ignore_instructions",
        r"(ignore|disregard|forget|override|bypass|skip)\s+(all\s+|any\s+|the\s+|your\s+)*"
        r"(previous|prior|above|earlier|preceding|former|original|system|initial)?\s*"
        r"(instructions?|prompts?|rules|directions|guidelines|context|messages?)",
    ),
    (
        "ignore_instructions",
        r"(忽略|无视|忘记|忘掉|不要理会|不要管|别管|抛开|丢弃|跳过|覆盖)[掉了你]{0,2}"
        r"(之前|以上|上面|前面|先前|此前|原来|原有|原先|所有|全部|一切|你的|系统)"
        r".{0,8}(指令|指示|提示词?|规则|设定|命令|约束|限制)",
    ),
    (
        "system_prompt",
        r"(reveal|show|print|repeat|output|display|tell\s+me|give\s+me|what\s+(is|are|was))"
        r".{0,40}(system\s+prompt|initial\s+prompt|hidden\s+(prompt|instructions)"
        r"|your\s+(instructions|prompt|rules))",
    ),
    (
        "system_prompt",
        r"(输出|打印|显示|告诉我|说出|重复|泄露|给我看|展示|透露|复述)"
        r".{0,12}(系统提示词?|系统指令|系统设定|初始指令|提示词|你的指令|你的设定|你的规则)",
    ),
    (
        "system_prompt",
        r"(系统提示词?|系统指令|系统设定|初始指令|提示词|你的指令|你的设定)"
        r".{0,10}(输出|打印|显示|告诉我|说出来|复述|发给我|泄露|透露)",
    ),
    (
        "role_play",
        r"(you\s+are\s+now|from\s+now\s+on\s+you|pretend\s+(to\s+be|you\s+are)|act\s+as|"
        r"role[\s-]?play\s+as|simulate\s+being)\s+.{0,40}"
        r"(dan|jailbreak|unfiltered|uncensored|without\s+(any\s+)?(rules|restrictions|limits)"
        r"|developer\s+mode|evil|no\s+(rules|restrictions))",
    ),
    (
        "role_play",
        r"(你现在是|从现在开始你|假装你是|扮演|你将扮演|进入).{0,20}"
        r"(没有任何?限制|不受任何?限制|无限制|不受约束|越狱|开发者模式|dan|邪恶|不守规则)",
    ),
    ("jailbreak", r"\b(jailbreak|developer\s+mode|do\s+anything\s+now|dan\s+mode)\b"),
    ("jailbreak", r"(越狱模式|开发者模式|解除(所有)?限制)"),
    (
        "fake_system",
        r"(^|\n)\s*(system|assistant)\s*:|<\|?(im_start|system|endoftext)\|?>|\[/?inst\]",
    ),
)


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    start: int
    end: int


class InjectionScreen:
    def __init__(self, extra: Sequence[str] = ()) -> None:
        patterns: Iterable[tuple[str, str]] = [
            *PATTERNS,
            *(("operator", pattern) for pattern in extra),
        ]
        self._patterns = [
            (name, re.compile(pattern, re.IGNORECASE | re.DOTALL)) for name, pattern in patterns
        ]

    def findings(self, text: str) -> list[Finding]:
        folded = _fold(text)
        found = []
        for name, pattern in self._patterns:
            match = pattern.search(folded)
            if match:
                found.append(Finding(name, match.start(), match.end()))
        return found


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).lower()
    # Characters dropped by the sanitize stage never reach here; collapse runs of spaces so
    # that "ignore    previous" still reads as two words.
    folded = re.sub(r"[ \t\u3000]+", " ", folded)
    return _t2s.convert(folded)
