"""What the chat flow calls: the question into the back ends' language, the answer back.

A question in a language the back ends do not read is first compared with the knowledge base's
curated questions in that language, then machine translated; one that can be neither goes on
as it is (a back end may still read it). An answer is shown, in order of preference: already in
the resident's language; as the entry's curated translation; machine translated, with a notice
and the original beside it; or in Chinese with a note saying why. Translation failures never
reach the resident as errors.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence

import locales
from gateway import extensions, metrics
from gateway.backends.base import Answer, Citation, Query
from gateway.config import ConfigError, HttpConfig, Settings, TranslationConfig
from gateway.replies import Notice, Reply
from gateway.services import Services
from gateway.state import shared
from gateway.text import markdown_to_text
from gateway.translation.base import TranslationError, Translator, language_of
from gateway.translation.cache import TranslationCache, cache_key
from gateway.translation.curated import CuratedTranslations
from gateway.translation.glossary import Glossary, GlossaryError, placeholders_in
from gateway.translation.http import HttpTranslator
from gateway.translation.markdown import Layout, layout
from gateway.translation.stream import StreamedTranslation

log = logging.getLogger("gateway.translation")

GROUP = "gateway.translators"
_HAN = re.compile(r"[\u3400-\u9fff]")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")


def create_engine(config: TranslationConfig, http: HttpConfig | None = None) -> Translator:
    """The configured engine, its options checked; ``http``: the gateway's client settings."""
    engine = extensions.create(
        GROUP,
        config.engine,
        Translator,
        config.options.get(config.engine),
        None,
        label=f"translation engine {config.engine!r}",
    )
    if http is not None and isinstance(engine, HttpTranslator):
        engine.http_config = http
    return engine


def _read_every_language(settings: Settings) -> bool:
    if settings.knowledge.embedder == "none":
        return False
    try:
        classes = [extensions.load("gateway.backends", b.type) for b in settings.backends]
    except extensions.UnknownExtension:
        return False  # reported when the back ends are created
    return all(getattr(backend, "reads_every_language", False) for backend in classes)


class TranslationService:
    def __init__(
        self,
        config: TranslationConfig,
        services: Services,
        engine: Translator,
        glossary: Glossary,
        cache: TranslationCache,
        hotline: str = "12345",
        backends_read_every_language: bool = False,
    ) -> None:
        self.config = config
        self.engine = engine
        self.glossary = glossary
        self.cache = cache
        self.curated = CuratedTranslations(services)
        self.hotline = hotline
        self.backend_languages = [language_of(code) or code for code in config.backend_languages]
        #: Every back end retrieves by meaning in any language (``faq``/``rag`` with an
        #: embedder): questions go to them as the resident wrote them; answers still come back
        #: translated.
        self.backends_read_every_language = backends_read_every_language

    @classmethod
    def from_settings(cls, settings: Settings, services: Services) -> TranslationService:
        config = settings.translation
        try:
            glossary = Glossary.load(config.glossaries)
        except GlossaryError as exc:
            raise ConfigError(f"translation glossary: {exc}") from exc
        return cls(
            config,
            services,
            create_engine(config, settings.http),
            glossary,
            shared.translation_cache(services),
            hotline=settings.service.hotline,
            backends_read_every_language=_read_every_language(settings),
        )

    async def startup(self) -> None:
        try:
            await self.engine.startup()
        except TranslationError as exc:
            raise ConfigError(f"translation engine {self.engine.name!r}: {exc}") from exc

    async def aclose(self) -> None:
        await self.engine.aclose()

    # -- languages -----------------------------------------------------------------------------

    def question_language(self, detected: str | None, locale: str, text: str = "") -> str:
        """The resident's language: what understanding detected, else their UI language (but
        Chinese characters alone are Chinese whatever the UI language)."""
        if detected:
            return language_of(detected) or "zh"
        if _HAN.search(text) and not _KANA_HANGUL.search(text):
            return "zh"
        return language_of(locale) or "zh"

    def translates(self, language: str) -> bool:
        """Whether questions and answers in ``language`` go through translation."""
        return language not in self.backend_languages

    def streamed(self, query: Query, language: str) -> StreamedTranslation | None:
        """Line-by-line translation (gateway/translation/stream.py) of the streamed answer to
        ``query``, as the back ends got it, for a resident of ``language``; None when the answer
        is not to be machine translated, or its language cannot be told before it is complete
        (a question that could not be translated may be answered in its own language)."""
        if not self.translates(language) or self.translates(query.language):
            return None
        return StreamedTranslation(self, query.language, language)

    # -- the two directions ----------------------------------------------------------------

    @metrics.timed("translate_question")
    async def question(self, query: Query) -> Query:
        """``query`` in the back ends' language when it can be brought there, else as it is."""
        language = query.language
        metrics.QUESTIONS.labels(language).inc()  # every question passes here: the language mix
        if not self.translates(language) or self.backends_read_every_language:
            return query
        target = self.backend_languages[0]
        match = await self.curated.match(query.text, language)
        if match is not None and match.similarity >= self.config.curated_min_similarity:
            log.info("question matched the curated %s question of %s", language, match.entry.id)
            return dataclasses.replace(query, text=match.entry.question, language=target)
        try:
            [text] = await self.translate([query.text], language, target)
        except TranslationError as exc:
            log.warning("question not translated from %s: %s", language, exc)
            return query
        return dataclasses.replace(query, text=text, language=target)

    @metrics.timed("translate_answer")
    async def localize(
        self, language: str, query: Query, answer: Answer | None, reply: Reply
    ) -> Reply:
        """``reply`` brought into the resident's ``language``, as a new reply (``query`` is the
        question as the back ends got it; ``answer`` is None when no back end had one)."""
        if not self.translates(language):
            return reply
        if answer is None or not reply.found:
            notices = reply.notices
            if query.language == language and not self.backends_read_every_language:
                notices = (*notices, self._notice("question_not_translated", language))
            suggestions = await self._suggestions(reply.suggestions, language)
            return dataclasses.replace(reply, suggestions=tuple(suggestions), notices=notices)
        source = language_of(answer.language) or "zh"
        if source == language:
            return reply
        curated = await self.curated.entry(answer.entry_id, language)
        if curated is not None:
            entry, translation = curated
            titles = [
                translation.source_title
                if citation.title == entry.source.title and translation.source_title
                else None
                for citation in reply.citations
            ]
            return dataclasses.replace(
                reply,
                answer=translation.answer,
                answer_text=markdown_to_text(translation.answer),
                language=language,
                citations=tuple(await self._titles(reply.citations, titles, source, language)),
                suggestions=tuple(await self._suggestions(reply.suggestions, language)),
            )
        curated_suggestions = await self.curated.questions(list(reply.suggestions), language)
        rest = [s for s, c in zip(reply.suggestions, curated_suggestions, strict=True) if not c]
        titles = [citation.title for citation in reply.citations]
        try:
            translated = await self.translate([reply.answer, *titles, *rest], source, language)
        except TranslationError as exc:
            log.warning("answer not translated into %s: %s", language, exc)
            return dataclasses.replace(
                reply,
                notices=(*reply.notices, self._notice("not_translated", language)),
                suggestions=tuple(
                    c or s for s, c in zip(reply.suggestions, curated_suggestions, strict=True)
                ),
            )
        text, new_titles, new_rest = (
            translated[0],
            translated[1 : 1 + len(titles)],
            iter(translated[1 + len(titles) :]),
        )
        return dataclasses.replace(
            reply,
            original_answer=reply.answer,
            answer=text,
            answer_text=markdown_to_text(text),
            language=language,
            citations=tuple(
                dataclasses.replace(citation, title=title)
                for citation, title in zip(reply.citations, new_titles, strict=True)
            ),
            suggestions=tuple(c or next(new_rest) for c in curated_suggestions),
            notices=(*reply.notices, self._notice("machine_translated", language)),
        )

    def _notice(self, code: str, language: str) -> Notice:
        # The resident's language, or English when the catalogs lack it.
        message = locales.text(f"notice.{code}", language, hotline=self.hotline)
        return Notice(code=code, message=message)

    async def _suggestions(self, suggestions: Sequence[str], language: str) -> list[str]:
        curated = await self.curated.questions(list(suggestions), language)
        missing = [s for s, c in zip(suggestions, curated, strict=True) if not c]
        try:
            translated = iter(await self.translate(missing, "zh", language) if missing else [])
        except TranslationError:
            translated = iter(missing)
        return [c or next(translated) for c in curated]

    async def _titles(
        self, citations: Sequence[Citation], known: list[str | None], source: str, target: str
    ) -> list[Citation]:
        missing = [c.title for c, title in zip(citations, known, strict=True) if not title]
        try:
            translated = iter(await self.translate(missing, source, target) if missing else [])
        except TranslationError:
            translated = iter(missing)
        return [
            dataclasses.replace(citation, title=title or next(translated))
            for citation, title in zip(citations, known, strict=True)
        ]

    # -- machine translation with the glossary and the cache ------------------------------------

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """``texts`` (Markdown) translated, official terms protected, from the cache when it
        has them. Raises ``TranslationError``."""
        if source == target or not texts:
            return list(texts)
        layouts: list[Layout | None] = []
        pieces: list[str] = []
        for text in texts:
            if self.engine.keeps_markdown:
                layouts.append(None)
                pieces.append(text)
            else:
                shape = layout(text)
                layouts.append(shape)
                pieces.extend(shape.texts)
        protected = self.glossary.protect(pieces, source, target)
        keys = [cache_key(self.engine.name, source, target, text) for text in protected.texts]
        found = {key: await self.cache.get(key) for key in dict.fromkeys(keys)}
        missing = {key: text for key, text in zip(keys, protected.texts, strict=True)}
        missing = {key: text for key, text in missing.items() if found[key] is None}
        if missing:
            results = await self.engine.translate(
                list(missing.values()), source, target, protected.hints
            )
            if len(results) != len(missing):
                raise TranslationError(f"{self.engine.name}: answered {len(results)} texts")
            for (key, original), result in zip(missing.items(), results, strict=True):
                lost = placeholders_in(original) - placeholders_in(result)
                if lost:
                    log.warning("%s lost the glossary terms %s", self.engine.name, sorted(lost))
                found[key] = result
                await self.cache.set(key, result)
        restored = [protected.restore(found[key] or "", target)[0] for key in keys]
        pending = iter(restored)
        output = []
        for shape in layouts:
            if shape is None:
                output.append(next(pending))
            else:
                output.append(shape.join([next(pending) for _ in shape.texts]))
        return output
