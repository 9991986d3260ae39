"""The protected glossary: official names that translation must render the same way every time.

Before a text goes to an engine, each glossary term in it is replaced by a placeholder
(``ZQ1``, ``ZQ2`` …) that engines copy through unchanged; afterwards each placeholder becomes
the term's official rendering in the target language. So 居住证 is always "residence permit",
never "residence certificate" in one answer and "living permit" in the next, and an English
"residence permit" reaches the Chinese back ends as 居住证, the word the knowledge base uses.

The bundled glossary is ``gateway/data/glossary.tsv``: one term per line, a column per
language (``zh en ko ja vi th ru``), alternatives separated by ``|`` with the official form
first. Operators add their own files (local agency names) with ``[translation] glossaries``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from gateway.safety.pii import LABELS

PLACEHOLDER = "ZQ{}"
#: Engines sometimes space out or widen a placeholder (``ZQ 1``, ``ＺＱ１``); all count.
_PLACEHOLDER = re.compile(r"[ZＺ]\s?[QＱ]\s?([0-9０-９]{1,3})(?![0-9０-９])", re.IGNORECASE)
#: Languages written without spaces between words: terms match anywhere and placeholders
#: are joined to their neighbours without spaces.
_UNSPACED = frozenset({"zh", "ja", "th", "lo", "km", "my"})
_SPACED_PLACEHOLDER = re.compile(
    r"(?P<left>[ \t]*)(?P<placeholder>" + _PLACEHOLDER.pattern + r")(?P<right>[ \t]*)",
    re.IGNORECASE,
)
_WIDE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef\u0e00-\u0eff]")


class GlossaryError(Exception):
    """A glossary file cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Term:
    #: Language → forms, the official one first.
    forms: Mapping[str, tuple[str, ...]]

    def official(self, language: str) -> str | None:
        forms = self.forms.get(language)
        return forms[0] if forms else None


@dataclass(slots=True)
class Protected:
    """Texts with their glossary terms replaced by placeholders, numbered across the texts."""

    texts: list[str]
    #: The official rendering in the target language of placeholder n + 1.
    renderings: list[str] = field(default_factory=list)

    @property
    def hints(self) -> dict[str, str]:
        return {PLACEHOLDER.format(n + 1): term for n, term in enumerate(self.renderings)}

    def restore(self, translated: str, target: str) -> tuple[str, list[str]]:
        """The translation with each placeholder replaced by its term, and the terms of
        placeholders the engine mangled beyond recognition (numbers it made up)."""
        unknown: list[str] = []

        def replace(match: re.Match[str]) -> str:
            number = int(unicodedata.normalize("NFKC", match.group(1)))
            if not 1 <= number <= len(self.renderings):
                unknown.append(match.group(0))
                return match.group(0)
            term = self.renderings[number - 1]
            if target in _UNSPACED or target == "ko":
                return term
            # An engine may glue the placeholder to a word ("bringZQ1"): keep words apart.
            text = match.string
            before = text[match.start() - 1] if match.start() else " "
            after = text[match.end()] if match.end() < len(text) else " "
            return (" " if before.isalpha() else "") + term + (" " if after.isalpha() else "")

        if target in _UNSPACED:
            translated = _join_unspaced(translated)
        return _PLACEHOLDER.sub(replace, translated), unknown


def placeholders_in(text: str) -> set[str]:
    """The placeholders in ``text``, written as ``PLACEHOLDER`` writes them."""
    return {
        PLACEHOLDER.format(int(unicodedata.normalize("NFKC", number)))
        for number in _PLACEHOLDER.findall(text)
    }


def _join_unspaced(text: str) -> str:
    # "ZQ1 怎么办理" → "ZQ1怎么办理": engines put spaces around placeholders, which languages
    # written without spaces do not want next to their own characters.
    def tighten(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        left = "" if not before or _WIDE.match(before) else match.group("left")
        right = "" if not after or _WIDE.match(after) else match.group("right")
        return left + match.group("placeholder") + right

    return _SPACED_PLACEHOLDER.sub(tighten, text)


class Glossary:
    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms = list(terms)
        # Masked personal data stays exactly as masked, whatever the language.
        self._labels = list(LABELS.values())
        self._matchers: dict[tuple[str, str], _Matcher] = {}

    def __len__(self) -> int:
        return len(self.terms)

    @classmethod
    def load(cls, paths: Sequence[str | Path] = (), *, bundled: bool = True) -> Glossary:
        terms: list[Term] = []
        if bundled:
            terms.extend(_parse(bundled_path().read_text(encoding="utf-8"), str(bundled_path())))
        for path in map(Path, paths):
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise GlossaryError(f"{path}: {exc.strerror or exc}") from exc
            terms.extend(_parse(text, str(path)))
        return cls(terms)

    def protect(self, texts: Sequence[str], source: str, target: str) -> Protected:
        """Replace the terms of ``source`` that have a ``target`` rendering by placeholders;
        a term keeps its number in every text."""
        matcher = self._matchers.get((source, target))
        if matcher is None:
            matcher = self._matchers[(source, target)] = self._matcher(source, target)
        protected = Protected(list(texts))
        if matcher.pattern is None:
            return protected
        numbers: dict[str, int] = {}

        def replace(match: re.Match[str]) -> str:
            rendering = matcher.rendering(match.group(0))
            if rendering not in numbers:
                protected.renderings.append(rendering)
                numbers[rendering] = len(protected.renderings)
            return PLACEHOLDER.format(numbers[rendering])

        protected.texts = [matcher.pattern.sub(replace, text) for text in texts]
        return protected

    def _matcher(self, source: str, target: str) -> _Matcher:
        renderings: dict[str, str] = {_fold(label): label for label in self._labels}
        forms = set(self._labels)
        for term in self.terms:
            official = term.official(target)
            if official is None:
                continue
            for form in term.forms.get(source, ()):
                # The first term listing a form wins.
                renderings.setdefault(_fold(form), official)
                # Both as written and normalized: NFKC rewrites some letters (Thai ำ).
                forms.update((form, unicodedata.normalize("NFKC", form)))
        if not forms:
            return _Matcher(None, renderings)
        alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
        if source in _UNSPACED or source == "ko":
            # Korean particles attach to the noun (거주증을), so no word boundary there either.
            body = f"(?:{alternatives})"
        else:
            plural = "(?:e?s)?" if source == "en" else ""
            body = rf"(?<!\w)(?:{alternatives}){plural}(?!\w)"
        return _Matcher(re.compile(body, re.IGNORECASE), renderings)


@dataclass(frozen=True, slots=True)
class _Matcher:
    pattern: re.Pattern[str] | None
    #: Folded source form → official target rendering.
    renderings: Mapping[str, str]

    def rendering(self, matched: str) -> str:
        folded = _fold(matched)
        if folded in self.renderings:
            return self.renderings[folded]
        for suffix in ("es", "s"):
            if folded.endswith(suffix) and folded[: -len(suffix)] in self.renderings:
                return self.renderings[folded[: -len(suffix)]]
        return matched


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def bundled_path() -> Path:
    return Path(str(resources.files("gateway") / "data" / "glossary.tsv"))


def _parse(text: str, name: str) -> list[Term]:
    terms: list[Term] = []
    header: list[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = [cell.strip() for cell in line.split("\t")]
        if header is None:
            header = cells
            if "zh" not in header:
                raise GlossaryError(f"{name}:{number}: the header must name a zh column")
            continue
        if len(cells) > len(header):
            raise GlossaryError(
                f"{name}:{number}: {len(cells)} columns, but the header names {len(header)}"
            )
        forms = {
            language: tuple(form.strip() for form in cell.split("|") if form.strip())
            for language, cell in zip(header, cells, strict=False)
            if cell and language != "note"
        }
        if not forms.get("zh"):
            raise GlossaryError(f"{name}:{number}: the zh column is empty")
        terms.append(Term(forms))
    return terms
