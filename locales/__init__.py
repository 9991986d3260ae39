"""Message catalogs: every string a resident sees, for the portal and the gateway alike.

Each locale is one JSON file in this folder (``zh-CN.json``, ``en.json`` …) mapping dotted keys
to texts with ``{placeholders}`` in ``str.format`` style. The ``_meta`` entry gives the locale's
native name and writing direction. A key missing from a locale falls back to the locale's base
language, then to ``en``, then to ``zh-CN``, so a partly translated catalog still works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

DEFAULT_LOCALE = "zh-CN"
FALLBACK_CHAIN = ("en", DEFAULT_LOCALE)

# Tags residents' browsers send that are best served by a locale under another name.
_ALIASES = {
    "zh": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-sg": "zh-CN",
    "zh-hans-cn": "zh-CN",
    "zh-hant": "zh-HK",
    "zh-tw": "zh-HK",
    "zh-mo": "zh-HK",
    "zh-hant-hk": "zh-HK",
    "zh-hant-tw": "zh-HK",
    "yue": "zh-HK",
    "yue-hk": "zh-HK",
    "in": "id",  # the old ISO code some Android browsers still send for Indonesian
}


@dataclass(frozen=True)
class LocaleInfo:
    code: str
    name: str
    direction: str


@cache
def _catalogs() -> dict[str, dict[str, Any]]:
    catalogs: dict[str, dict[str, Any]] = {}
    for entry in resources.files(__name__).iterdir():
        if entry.name.endswith(".json"):
            catalogs[entry.name[: -len(".json")]] = json.loads(entry.read_text(encoding="utf-8"))
    return catalogs


@cache
def _by_lower() -> dict[str, str]:
    return {code.lower(): code for code in _catalogs()}


def available() -> list[str]:
    """Locale codes with a catalog, default first."""
    codes = sorted(_catalogs())
    codes.remove(DEFAULT_LOCALE)
    return [DEFAULT_LOCALE, *codes]


def info(locale: str) -> LocaleInfo:
    meta = _catalogs()[locale]["_meta"]
    return LocaleInfo(code=locale, name=meta["name"], direction=meta.get("dir", "ltr"))


def keys(locale: str) -> set[str]:
    return {key for key in _catalogs()[locale] if not key.startswith("_")}


def raw(locale: str, key: str) -> str | None:
    """The text of ``key`` in exactly this locale, or None."""
    value = _catalogs().get(locale, {}).get(key)
    return value if isinstance(value, str) else None


def text(key: str, locale: str | None, /, **params: Any) -> str:
    """The text of ``key`` in ``locale`` (or the nearest locale that has it), formatted."""
    for candidate in _chain(locale or DEFAULT_LOCALE):
        template = raw(candidate, key)
        if template is not None:
            return template.format(**params) if params else template
    raise KeyError(f"no locale has the message {key!r}")


def _chain(locale: str) -> list[str]:
    chain = [locale]
    base = locale.split("-")[0]
    if base != locale:
        chain.append(base)
    chain.extend(FALLBACK_CHAIN)
    return chain


def tags() -> dict[str, str]:
    """Every language tag :func:`match` knows by itself (lowercase), with its locale: the
    codes and their aliases. Shorter prefixes of a tag are tried in turn, as ``match`` does."""
    by_lower = {code.lower(): code for code in _catalogs()}
    aliases = {
        tag: by_lower[code.lower()] for tag, code in _ALIASES.items() if code.lower() in by_lower
    }
    return {**aliases, **by_lower}


def match(tag: str | None) -> str | None:
    """The supported locale for a language tag such as ``en-GB`` or ``zh-TW``, or None."""
    if not tag:
        return None
    tag = tag.strip().replace("_", "-").lower()
    by_lower = _by_lower()
    if tag in by_lower:
        return by_lower[tag]
    if tag in _ALIASES and _ALIASES[tag].lower() in by_lower:
        return by_lower[_ALIASES[tag].lower()]
    parts = tag.split("-")
    for length in range(len(parts) - 1, 0, -1):
        prefix = "-".join(parts[:length])
        if prefix in _ALIASES:
            return _ALIASES[prefix]
        if prefix in by_lower:
            return by_lower[prefix]
    return None


@lru_cache(maxsize=1024)  # every request negotiates; browsers send few distinct headers
def negotiate(
    requested: str | None, accept_language: str | None, default: str = DEFAULT_LOCALE
) -> str:
    """Pick the UI locale: an explicit request first, then the browser's preferences."""
    chosen = match(requested)
    if chosen:
        return chosen
    for tag in _preferred_tags(accept_language or ""):
        chosen = match(tag)
        if chosen:
            return chosen
    return match(default) or DEFAULT_LOCALE


def _preferred_tags(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]
