"""The question's path through the gateway: understand it, mask it, route it, answer it.

``ChatService`` is what the HTTP API (and any other front door) calls. It never loses a
question: one that gets no answer, or whose back ends all fail, is recorded for operators.
"""

from __future__ import annotations

import gc
import logging
import unicodedata
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import anyio.to_thread

import locales
from gateway import backends as backend_registry
from gateway.api.schemas import (
    ChatRequest,
    ChatResponse,
    CitationOut,
    HotQuestion,
    Notice,
)
from gateway.backends.base import Answer, Backend, Delta, Done, Query, Replace, Turn
from gateway.config import BackendConfig, SessionsConfig, Settings
from gateway.errors import GatewayError
from gateway.knowledge.entries import KnowledgeBase
from gateway.routing import NoAnswer, Plan, Router
from gateway.safety import pii
from gateway.safety.review import Safety
from gateway.services import Services
from gateway.state import hot as hot_counters
from gateway.state import sessions as session_stores
from gateway.state.breakers import Breaker, RedisCircuitBreaker
from gateway.state.hot import HotQuestions
from gateway.state.sessions import Conversation, MemorySessionStore, SessionStore
from gateway.state.store import Feedback, SqlStore, Store
from gateway.text import markdown_to_text
from gateway.translation.service import TranslationService
from gateway.translation.stream import Piece, StreamedTranslation
from gateway.understanding.base import Analysis
from gateway.understanding.pipeline import Pipeline
from gateway.understanding.reply import did_you_mean, in_resident_script

log = logging.getLogger("gateway.chat")

#: Answers remembered so feedback can be tied to its question.
RECENT_ANSWERS = 10_000


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    question: str
    backend: str
    entry_id: str


@dataclass(slots=True)
class Prepared:
    """A question ready for the back ends, and what the resident should be told about it."""

    query: Query
    notices: list[Notice]
    #: The resident's language: the answer is brought back into it (docs/translation.md).
    language: str = "zh"
    #: How the question was understood (docs/understanding.md).
    analysis: Analysis | None = None
    #: The question as understood, when pinyin conversion or typo correction changed it.
    did_you_mean: str | None = None
    #: Whether the reply carries the answer as plain text too (``answer_text``).
    plain_text: bool = True

    def reply(self, text: str) -> str:
        """``text`` in the resident's own script (Traditional for those who wrote it)."""
        return in_resident_script(self.analysis, text) if self.analysis else text


class ChatService:
    def __init__(
        self,
        settings: Settings,
        services: Services,
        pipeline: Pipeline,
        backends: dict[str, Backend],
        router: Router,
        store: Store,
        sessions: SessionStore | None = None,
        translation: TranslationService | None = None,
        safety: Safety | None = None,
        hot: HotQuestions | None = None,
    ) -> None:
        self.settings = settings
        self.services = services
        self.pipeline = pipeline
        self.backends = backends
        self.router = router
        self.store = store
        self.sessions = sessions or MemorySessionStore(SessionsConfig())
        self.translation = translation or TranslationService.from_settings(settings, services)
        self.safety = safety or Safety.from_settings(settings, store)
        self.hot = hot or HotQuestions(
            hot_counters.create(settings.hot, services.redis, settings.redis.prefix)
        )
        self._recent: OrderedDict[str, AnswerRecord] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatService:
        services = Services(settings)
        backends = {
            config.name: backend_registry.create(config, services) for config in settings.backends
        }
        return cls(
            settings=settings,
            services=services,
            pipeline=Pipeline.from_config(settings.understanding),
            backends=backends,
            router=Router(
                settings.routes,
                backends,
                configs={config.name: config for config in settings.backends},
                services=services,
                config=settings.routing,
                breakers=_shared_breakers(services),
            ),
            store=SqlStore(
                settings.state.database_url, settings.state.migrate, settings.state.pool_size
            ),
            sessions=session_stores.create(settings, services),
            translation=TranslationService.from_settings(settings, services),
        )

    async def startup(self) -> None:
        await self.services.startup()
        await self._learn(await self.services.knowledge())
        self.services.on_reload(self._learn)
        for backend in self.backends.values():
            await backend.startup()
        await self.translation.startup()

    async def _learn(self, knowledge: KnowledgeBase) -> None:
        """Teach the understanding pipeline the knowledge base's words."""
        await anyio.to_thread.run_sync(self.pipeline.learn, knowledge)
        # Millions of long-lived objects (lexicons, indexes): out of the cyclic collector's
        # sight, or each of its full passes stalls every request for 0.1–0.3 s.
        gc.freeze()

    async def aclose(self) -> None:
        for backend in self.backends.values():
            await backend.aclose()
        await self.sessions.aclose()
        await self.translation.aclose()
        await self.store.aclose()
        await self.services.aclose()

    @property
    def hotline(self) -> str:
        return self.settings.service.hotline

    # -- answering -------------------------------------------------------------------------

    def prepare(self, request: ChatRequest, locale: str) -> Prepared:
        """Understand and mask the question; raise ``GatewayError`` for unusable input."""
        analysis = self.pipeline.run(request.message, locale, correct=request.correct)
        masked = pii.mask(analysis.text)
        notices = []
        if masked.findings:
            separator = locales.text("pii.separator", locale)
            kinds = separator.join(locales.text(f"pii.{kind}", locale) for kind in masked.kinds)
            notices.append(
                Notice(
                    code="personal_data_hidden",
                    message=locales.text("notice.personal_data_hidden", locale, kinds=kinds),
                )
            )
        original = pii.mask(unicodedata.normalize("NFKC", request.message)).text
        language = self.translation.question_language(analysis.language, locale, masked.text)
        query = Query(
            text=masked.text,
            language=language,
            session_id=request.session_id or uuid.uuid4().hex,
            locale=locale,
            original=original,
            agent=request.agent,
        )
        query = self.safety.review_question(query, notices, masked.kinds)
        return Prepared(query, notices, language, analysis, did_you_mean(analysis, masked.text))

    async def answer(
        self,
        request: ChatRequest,
        locale: str,
        history: Sequence[Turn] | None = None,
        *,
        plain_text: bool = True,
    ) -> ChatResponse:
        """``history``: the earlier turns, when the caller keeps the conversation itself (the
        OpenAI-compatible API); otherwise the session's are used. ``plain_text=False``: leave
        ``answer_text`` empty (for callers that never show it)."""
        prepared = self.prepare(request, locale)
        prepared.plain_text = plain_text
        prepared.query = await self.translation.question(prepared.query)
        plan, conversation = await self._plan(prepared.query, history)
        try:
            backend, answer = await self.router.ask(plan, conversation.backend_ids)
        except NoAnswer:
            return await self._not_answered(prepared, None)
        answer = self.safety.review_answer(answer, prepared.query, backend.name)
        if not answer.found:
            return await self._not_answered(prepared, (backend, answer))
        await self._converse(prepared.query, backend, answer)
        return await self._respond(prepared, backend, answer)

    async def stream(
        self,
        request: ChatRequest,
        locale: str,
        history: Sequence[Turn] | None = None,
        *,
        plain_text: bool = True,
    ) -> AsyncIterator[tuple[str, Any]]:
        """``(event, data)`` pairs: ``delta``/``replace`` text, then ``citations`` and ``done``,
        or ``error``. Bad input raises before the first event, so it gets a plain error reply."""
        prepared = self.prepare(request, locale)
        prepared.plain_text = plain_text
        return self._stream(prepared, history)

    async def _stream(
        self, prepared: Prepared, history: Sequence[Turn] | None = None
    ) -> AsyncIterator[tuple[str, Any]]:
        prepared.query = await self.translation.question(prepared.query)
        query = prepared.query
        try:
            plan, conversation = await self._plan(query, history)
        except GatewayError as error:
            yield "error", self._error_body(error, query)
            return
        # An answer to be translated is sent line by line as its lines are translated, when
        # the back end streams (gateway/translation/stream.py), else whole once translated.
        hold = self.translation.translates(prepared.language)
        lines: StreamedTranslation | None = None
        not_found: tuple[Backend, Answer] | None = None
        try:
            answering = self.router.stream(plan, conversation.backend_ids)
            async for backend, event in self.safety.guard(answering, query):
                if isinstance(event, Done):
                    if not event.answer.found:
                        not_found = (backend, event.answer)
                        break
                    await self._converse(query, backend, event.answer)
                    response = await self._respond(prepared, backend, event.answer)
                    if hold:
                        for piece in rest_of_answer(response, lines):
                            yield piece
                    yield "citations", {"citations": [c.model_dump() for c in response.citations]}
                    yield "done", response.model_dump()
                    return
                kind = "delta" if isinstance(event, Delta) else "replace"
                assert isinstance(event, Delta | Replace)
                if hold:
                    if lines is None and backend.streams:
                        lines = self.translation.streamed(query, prepared.language)
                    for piece in lines.feed(kind, event.text) if lines else ():
                        yield piece
                    continue
                yield kind, {"text": prepared.reply(event.text)}
        except NoAnswer as failure:
            if failure.started:
                # Part of an answer has reached the resident: another back end's answer
                # would not continue it, so say what happened instead.
                await self._keep(query, "backend_failed")
                yield "error", self._error_body(GatewayError("backend_unavailable"), query)
                return
        finally:
            if lines is not None:
                lines.close()  # the resident left, or the answer failed: stop translating
        try:
            response = await self._not_answered(prepared, not_found)
        except GatewayError as error:
            yield "error", self._error_body(error, query)
            return
        for piece in rest_of_answer(response, lines):
            yield piece
        yield "citations", {"citations": []}
        yield "done", response.model_dump()

    async def _plan(
        self, query: Query, history: Sequence[Turn] | None
    ) -> tuple[Plan, Conversation]:
        """The route for the question, read in the light of the conversation so far."""
        conversation = Conversation(query.session_id)
        try:
            conversation = await self.sessions.load(query.session_id)
        except Exception:
            log.exception("could not load the conversation; answering without it")
        turns = tuple(history) if history is not None else tuple(conversation.turns)
        plan = await self.router.plan(replace(query, history=turns))
        self.safety.screen(plan, self.backends)
        return plan, conversation

    async def _converse(self, query: Query, backend: Backend, answer: Answer) -> None:
        """Remember the exchange for the session's next question."""
        turns = [Turn("user", query.text), Turn("assistant", pii.mask(answer.text).text)]
        try:
            await self.sessions.append(
                query.session_id, turns, backend.name, answer.conversation_id
            )
        except Exception:
            log.exception("could not keep the conversation")

    async def _respond(self, prepared: Prepared, backend: Backend, answer: Answer) -> ChatResponse:
        query = prepared.query
        message_id = uuid.uuid4().hex
        self._remember(message_id, AnswerRecord(query.text, backend.name, answer.entry_id or ""))
        if answer.entry_id:
            await self.hot.record(answer.entry_id)
        response = ChatResponse(
            message_id=message_id,
            session_id=query.session_id,
            answer=prepared.reply(answer.text),
            answer_text=prepared.reply(markdown_to_text(answer.text))
            if prepared.plain_text
            else "",
            language=answer.language,
            found=True,
            citations=[
                CitationOut(
                    title=prepared.reply(c.title),
                    url=c.url,
                    snippet=prepared.reply(c.snippet),
                    score=c.score,
                )
                for c in answer.citations
            ],
            suggestions=[prepared.reply(s) for s in answer.suggestions],
            notices=prepared.notices,
            backend=backend.name,
            did_you_mean=prepared.did_you_mean,
        )
        return await self.translation.localize(prepared.language, query, answer, response)

    async def _not_answered(
        self, prepared: Prepared, not_found: tuple[Backend, Answer] | None
    ) -> ChatResponse:
        query = prepared.query
        if not_found is None:
            await self._keep(query, "backend_failed")
            raise GatewayError("backend_unavailable")
        await self._keep(query, "not_found")
        backend, answer = not_found
        text = locales.text("answer.not_found", query.locale, hotline=self.hotline)
        message_id = uuid.uuid4().hex
        self._remember(message_id, AnswerRecord(query.text, backend.name, ""))
        response = ChatResponse(
            message_id=message_id,
            session_id=query.session_id,
            answer=text,
            answer_text=text,
            language=query.locale,
            found=False,
            suggestions=[prepared.reply(s) for s in answer.suggestions],
            notices=prepared.notices,
            backend=backend.name,
            did_you_mean=prepared.did_you_mean,
        )
        return await self.translation.localize(prepared.language, query, None, response)

    def _error_body(self, error: GatewayError, query: Query) -> dict[str, Any]:
        return error.body(query.locale, hotline=self.hotline)

    async def _keep(self, query: Query, reason: str) -> None:
        try:
            await self.store.record_unanswered(query.text, query.language, reason)
        except Exception:
            log.exception("could not record an unanswered question")

    def _remember(self, message_id: str, record: AnswerRecord) -> None:
        self._recent[message_id] = record
        while len(self._recent) > RECENT_ANSWERS:
            self._recent.popitem(last=False)

    # -- feedback, hot questions, categories ------------------------------------------------

    async def feedback(self, message_id: str, helpful: bool, comment: str | None) -> None:
        record = self._recent.get(message_id, AnswerRecord("", "", ""))
        await self.store.record_feedback(
            Feedback(
                message_id=message_id,
                helpful=helpful,
                comment=pii.mask(comment or "").text,
                question=record.question,
                backend=record.backend,
                entry_id=record.entry_id,
            )
        )

    async def hot_questions(self, locale: str) -> list[HotQuestion]:
        knowledge = await self.services.knowledge()
        language = locale.split("-")[0]
        questions, untranslated = [], []
        for entry in await self.hot.merged(knowledge):
            translation = entry.translations.get(locale) or entry.translations.get(language)
            text = translation.question if translation and language != "zh" else entry.question
            kept = questions if translation or language == "zh" else untranslated
            kept.append(HotQuestion(id=entry.id, question=text, category=entry.category))
        # A foreign page shows first what it has a curated translation of; the rest stay
        # Chinese, and the portal marks them so (portal/render.py).
        return questions + untranslated

    async def categories(self, locale: str) -> list[tuple[str, str]]:
        knowledge = await self.services.knowledge()
        return [
            (category.id, category.names.get(locale) or category.names.get("zh-CN", category.id))
            for category in knowledge.categories
        ]


def _shared_breakers(services: Services) -> Callable[[str, BackendConfig], Breaker] | None:
    """Circuit breakers in Redis when it is configured (one per back end for every worker)."""
    redis = services.redis
    if redis is None:
        return None
    return lambda name, config: RedisCircuitBreaker(
        redis,
        services.key("breaker", name),
        config.breaker_failures,
        config.breaker_reset,
        probe_timeout=config.timeout,
    )


def rest_of_answer(response: ChatResponse, lines: StreamedTranslation | None) -> list[Piece]:
    """What is left to send of ``response``'s answer: all of it, or what its lines sent so far
    (translated as they came) still lack."""
    return lines.finish(response.answer) if lines else [("delta", {"text": response.answer})]
