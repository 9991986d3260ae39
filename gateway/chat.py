"""The question's path through the gateway: understand it, mask it, route it, answer it.

``ChatService`` is what the HTTP API (and any other front door) calls. There is one path: the
answer is a stream of events (routing, review and translation all work on it), delivered live
(:meth:`ChatService.stream`) or collected into one reply (:meth:`ChatService.answer`). It never
loses a question: each is recorded while its back end is asked, before the resident sees any
of the answer, and one that gets no answer, or whose back ends all fail, is recorded for
operators.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace

import anyio.to_thread
import orjson

import locales
from gateway import backends as backend_registry
from gateway.backends.base import (
    MESSAGE_ID,
    TRUNCATED,
    Answer,
    Backend,
    Citation,
    Delta,
    Done,
    Query,
    Turn,
)
from gateway.config import SessionsConfig, Settings
from gateway.errors import GatewayError
from gateway.knowledge.entries import KnowledgeBase
from gateway.replies import Failed, Finished, HotQuestion, Notice, Reply, ReplyEvent
from gateway.routing import NoAnswer, Plan, Router
from gateway.safety import pii
from gateway.safety.review import Safety
from gateway.services import Services
from gateway.state import sessions as session_stores
from gateway.state import shared
from gateway.state.answers import AnswerRecord, AnswerRecords
from gateway.state.hot import HotQuestions
from gateway.state.sessions import Conversation, MemorySessionStore, SessionStore
from gateway.state.store import Feedback, SqlStore, Store
from gateway.text import markdown_to_text
from gateway.translation.service import TranslationService
from gateway.translation.stream import Piece, StreamedTranslation
from gateway.understanding.base import Analysis
from gateway.understanding.pipeline import Pipeline, describe_change, knowledge_questions
from gateway.understanding.reply import did_you_mean, in_resident_script

log = logging.getLogger("gateway.chat")
#: Questions and phrasings of the knowledge base checked at start for changes understanding
#: would make (about a millisecond each: a few seconds at most); `gateway kb sources` checks all.
CHECKED_AT_START = 5000


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
    #: The caller's own earlier turns (masked), or None: the session's are used.
    history: Sequence[Turn] | None = None
    #: The reply's id, which feedback names; given before any back end is asked.
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex)

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
        records: AnswerRecords | None = None,
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
        self.hot = hot or HotQuestions(shared.hot_counter(services))
        self.records = records or shared.answer_records(store, services)

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
                breakers=shared.breakers(services),
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
        await self._recover()

    async def _recover(self) -> None:
        """Questions a stopped worker was answering are counted unanswered. Only those asked
        longer ago than the slowest route can take (each of its back ends timing out in turn,
        and a minute for clocks and stores): younger ones may be answered by a worker alive.
        Then the records older than ``[state] answer_days`` are forgotten."""
        timeouts = {config.name: config.timeout for config in self.settings.backends}
        slowest = max(
            (
                sum(timeouts.get(name, 0.0) for name in route.backends)
                for route in self.settings.routes
            ),
            default=0.0,
        )
        before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=slowest + 60)
        try:
            recovered = await self.store.recover_interrupted(before)
        except Exception:
            log.exception("could not look for interrupted questions")
            return
        if recovered:
            log.warning("%d questions were interrupted by a stop; kept as unanswered", recovered)
        try:
            await self.records.prune()
        except Exception:
            log.exception("could not forget old answer records")

    async def _learn(self, knowledge: KnowledgeBase) -> None:
        """Teach the understanding pipeline the knowledge base's words."""
        await anyio.to_thread.run_sync(self.pipeline.learn, knowledge)
        changed = await anyio.to_thread.run_sync(
            self.pipeline.changed_questions, knowledge, CHECKED_AT_START
        )
        if changed:
            asked = len(knowledge_questions(knowledge))
            part = f" (the first {CHECKED_AT_START} of {asked} checked)"
            log.warning(
                "understanding changes %d of the knowledge base's questions and phrasings%s, "
                "so residents who press or type them ask something else (`gateway kb sources` "
                "lists them all): %s",
                len(changed),
                part if asked > CHECKED_AT_START else "",
                "; ".join(describe_change(analysis) for analysis in changed[:3]),
            )
        # Millions of long-lived objects (lexicons, indexes): out of the cyclic collector's
        # sight, or each of its full passes stalls every request for 0.1–0.3 s.
        gc.freeze()

    async def aclose(self) -> None:
        for backend in self.backends.values():
            await backend.aclose()
        await self.sessions.aclose()
        await self.translation.aclose()
        await self.records.flush()
        await self.store.aclose()
        await self.services.aclose()

    @property
    def hotline(self) -> str:
        return self.settings.service.hotline

    # -- answering -------------------------------------------------------------------------

    def prepare(
        self,
        message: str,
        locale: str,
        *,
        session_id: str | None = None,
        agent: str | None = None,
        correct: bool = True,
        history: Sequence[Turn] | None = None,
        plain_text: bool = True,
    ) -> Prepared:
        """Understand and mask the question (and ``history``, the caller's own earlier turns,
        when it keeps the conversation itself; otherwise the session's are used); raise
        ``GatewayError`` for unusable input. ``plain_text=False``: leave ``answer_text`` empty
        (for callers that never show it)."""
        # Masked before understanding too: a typo correction could turn a number in Chinese
        # numerals into something no longer recognisable (三四 → 三十).
        typed = pii.mask(message)
        analysis = self.pipeline.run(typed.text, locale, correct=correct)
        found = pii.mask(analysis.text)
        hidden = [kind for kind in pii.LABELS if kind in typed.kinds + found.kinds]
        notices = []
        if hidden:
            separator = locales.text("pii.separator", locale)
            kinds = separator.join(locales.text(f"pii.{kind}", locale) for kind in hidden)
            notices.append(
                Notice(
                    code="personal_data_hidden",
                    message=locales.text("notice.personal_data_hidden", locale, kinds=kinds),
                )
            )
        language = self.translation.question_language(analysis.language, locale, found.text)
        query = Query(
            text=found.text,
            language=language,
            session_id=session_id or uuid.uuid4().hex,
            locale=locale,
            original=analysis.original,  # masked as typed, and readable (sanitize)
            agent=agent,
        )
        query = self.safety.review_question(query, notices, hidden)
        turns = None
        if history is not None:
            turns = [
                Turn(turn.role, pii.mask(turn.content).text) for turn in history if turn.content
            ]
        return Prepared(
            query,
            notices,
            language,
            analysis,
            did_you_mean(analysis, found.text),
            plain_text=plain_text,
            history=turns,
        )

    async def answer(self, prepared: Prepared) -> Reply:
        """The reply, whole: the answer's stream collected (the one place this is done).
        Raises ``GatewayError`` when there is no answer to give."""
        async with aclosing(self._deliver(prepared, live=False)) as events:
            async for event in events:
                if isinstance(event, Finished):
                    return event.reply
                if isinstance(event, Failed):
                    raise event.error
        raise AssertionError("a delivery ends with Finished or Failed")  # pragma: no cover

    def stream(self, prepared: Prepared) -> AsyncIterator[ReplyEvent]:
        """The reply as it is written: ``Delta``/``Replace`` pieces, then ``Finished`` or
        ``Failed``. (Bad input has raised in :meth:`prepare`, before the first event.)"""
        return self._deliver(prepared, live=True)

    async def _deliver(self, prepared: Prepared, live: bool) -> AsyncIterator[ReplyEvent]:
        """``live``: pieces go to the resident as they come (and once one has, the router
        no longer fails over); otherwise only the outcome is sent."""
        prepared.query = await self.translation.question(prepared.query)
        query = prepared.query
        try:
            plan, conversation = await self._plan(query, prepared.history)
        except GatewayError as error:
            yield Failed(error)
            return
        record = AnswerRecord(prepared.message_id, query.text, query.language)
        # Written while the back end is asked, not before: the write's thread hop is then off
        # the time to the first piece (docs/benchmarks.md, "bench/overhead.py").
        kept = self.records.asked(record)
        # An answer to be translated is sent line by line as its lines are translated, when
        # the back end streams (gateway/translation/stream.py), else whole once translated.
        hold = live and self.translation.translates(prepared.language)
        lines: StreamedTranslation | None = None
        outcome: tuple[Backend, Answer] | None = None
        try:
            answering = self.router.stream(plan, conversation.backend_ids)
            async with aclosing(self.safety.review(answering, query, live)) as reviewed:
                async for backend, event in reviewed:
                    if isinstance(event, Done):
                        outcome = backend, event.answer
                        break
                    if not live:
                        continue
                    if hold:
                        if lines is None and backend.streams:
                            lines = self.translation.streamed(query, prepared.language)
                        pieces = lines.feed(event) if lines else []
                    else:
                        pieces = [type(event)(prepared.reply(event.text))]
                    for piece in pieces:
                        await kept  # no resident sees an answer to a question not kept
                        plan.shown = True  # before it goes: the router must not fail over now
                        yield piece
        except NoAnswer:
            pass  # every back end failed, or the one that began failed: outcome stays None
        finally:
            if lines is not None:
                lines.close()  # the resident left, or the answer failed: stop translating
        await kept
        if outcome is None:
            await self._unanswered(replace(record, state="backend_failed"), query)
            yield Failed(GatewayError("backend_unavailable"))
            return
        backend, answer = outcome
        record = replace(record, backend=backend.name)
        if answer.found:
            await self._converse(query, backend, answer)
            reply = await self._respond(prepared, backend, answer)
            record = replace(
                record,
                state="answered",
                entry_id=answer.entry_id or "",
                backend_metadata=feedback_metadata(answer),
            )
            await self._keep(self.records.settled, record)
        else:
            reply = await self._not_found(prepared, backend, answer)
            await self._unanswered(replace(record, state="not_found"), query)
        if live and (hold or not answer.found):
            for piece in rest_of_answer(reply, lines):
                yield piece
        yield Finished(reply)

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

    async def _respond(self, prepared: Prepared, backend: Backend, answer: Answer) -> Reply:
        query = prepared.query
        if answer.entry_id:
            await self.hot.record(answer.entry_id)
        notices = tuple(prepared.notices)
        if answer.metadata.get(TRUNCATED):
            message = locales.text("notice.answer_truncated", query.locale, hotline=self.hotline)
            notices = (*notices, Notice(code="answer_truncated", message=message))
        reply = Reply(
            message_id=prepared.message_id,
            session_id=query.session_id,
            answer=prepared.reply(answer.text),
            answer_text=prepared.reply(markdown_to_text(answer.text))
            if prepared.plain_text
            else "",
            language=answer.language,
            found=True,
            citations=tuple(
                Citation(
                    title=prepared.reply(c.title),
                    url=c.url,
                    snippet=prepared.reply(c.snippet),
                    score=c.score,
                )
                for c in answer.citations
            ),
            suggestions=tuple(prepared.reply(s) for s in answer.suggestions),
            notices=notices,
            backend=backend.name,
            did_you_mean=prepared.did_you_mean,
        )
        return await self.translation.localize(prepared.language, query, answer, reply)

    async def _not_found(self, prepared: Prepared, backend: Backend, answer: Answer) -> Reply:
        query = prepared.query
        text = locales.text("answer.not_found", query.locale, hotline=self.hotline)
        reply = Reply(
            message_id=prepared.message_id,
            session_id=query.session_id,
            answer=text,
            answer_text=text,
            language=query.locale,
            found=False,
            suggestions=tuple(prepared.reply(s) for s in answer.suggestions),
            notices=tuple(prepared.notices),
            backend=backend.name,
            did_you_mean=prepared.did_you_mean,
        )
        return await self.translation.localize(prepared.language, query, None, reply)

    async def _unanswered(self, record: AnswerRecord, query: Query) -> None:
        """Keep a question that got no answer for operators, and settle its record."""
        await self._keep(self.records.settled, record)
        try:
            await self.store.record_unanswered(query.text, query.language, record.state)
        except Exception:
            log.exception("could not record an unanswered question")

    @staticmethod
    async def _keep(write: Callable[[AnswerRecord], object], record: AnswerRecord) -> None:
        # A store that is down must not cost the resident the answer.
        try:
            await write(record)  # type: ignore[misc]
        except Exception:
            log.exception("could not keep the answer's record")

    # -- feedback, hot questions, categories ------------------------------------------------

    async def feedback(self, message_id: str, helpful: bool, comment: str | None) -> None:
        """Keep a rating with what it rates (on whichever worker that was answered), and tell
        the back end that answered."""
        comment = pii.mask(comment or "").text
        try:
            record = await self.records.get(message_id)
        except Exception:
            log.exception("could not read the answer's record; the rating is kept without it")
            record = None
        kept = record or AnswerRecord(message_id, "")
        await self.store.record_feedback(
            Feedback(
                message_id=message_id,
                helpful=helpful,
                comment=comment,
                question=kept.question,
                backend=kept.backend,
                entry_id=kept.entry_id,
            )
        )
        backend = self.backends.get(kept.backend)
        if record is None or backend is None:
            return
        try:
            await backend.feedback(record, helpful, comment)
        except Exception:
            log.exception("back end %s did not take the rating", backend.name)

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


def rest_of_answer(reply: Reply, lines: StreamedTranslation | None) -> list[Piece]:
    """What is left to send of ``reply``'s answer: all of it, or what its lines sent so far
    (translated as they came) still lack."""
    return lines.finish(reply.answer) if lines else [Delta(reply.answer)]


def feedback_metadata(answer: Answer) -> str:
    """What of ``answer.metadata`` its back end needs to find the answer again when it is rated
    (its message id and the string ids beside it), as JSON; empty when it gave no message id."""
    if not answer.metadata.get(MESSAGE_ID):
        return ""
    kept = {key: value for key, value in answer.metadata.items() if isinstance(value, str)}
    return orjson.dumps(kept).decode()
