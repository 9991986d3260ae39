"""Routing: which back ends answer a question, in which order, and how each one is guarded.

A question first gets its route (:meth:`Router.plan`): the first ``[[routes]]`` entry whose
conditions hold — the assistant picked in the UI, the resident's language, keywords, or the
category of the question's best FAQ hit. A topic-less follow-up (需要什么材料？) takes its topic
from an earlier question of the conversation first.

Then the route's back ends are tried in order (:meth:`Router.stream`, the one way answers are
asked for: a blocking reply is the same stream collected by ``ChatService.answer``). Each is a
:class:`Lane`: a back end with a total and a first-piece timeout, a cap on the answer's size, a
concurrency limit and a :class:`CircuitBreaker`. A retryable failure (connection, timeout, 429,
5xx, a malformed reply) moves on to the next back end, never back to one that failed; a refusal
(400, 401) stops. Once a piece of an answer has reached the resident (``Plan.shown``) nothing
fails over: the stream ends with :class:`NoAnswer` (``started``) and the resident is told
politely. Text a back end sent that the resident never saw (held back by the safety review,
or collected for a blocking reply) does not count.

One rule orders a lane's bookkeeping, whatever the delivery: the slot is taken and the breaker
asked before the back end is; the breaker is settled as soon as the outcome is known, while
the slot is still held; the slot is left last. docs/routing.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gateway import metrics
from gateway.backends.base import (
    TRUNCATED,
    Answer,
    Backend,
    BackendError,
    Delta,
    Done,
    Event,
    Query,
    Replace,
)
from gateway.config import BackendConfig, ConfigError, RouteConfig, RoutingConfig
from gateway.deadlines import Deadline
from gateway.state.breakers import Breaker, CircuitBreaker

__all__ = ["Breaker", "CircuitBreaker", "Lane", "NoAnswer", "Plan", "Router"]

if TYPE_CHECKING:
    from gateway.knowledge.index import Hit
    from gateway.services import Services

log = logging.getLogger("gateway.routing")


class Lane:
    """A back end as the router uses it: its timeouts, breaker and concurrency limit."""

    def __init__(
        self,
        backend: Backend,
        config: BackendConfig,
        clock: Callable[[], float] = time.monotonic,
        breaker: Breaker | None = None,
    ) -> None:
        self.backend = backend
        self.timeout = config.timeout
        self.first_token_timeout = min(config.first_token_timeout, config.timeout)
        self.max_concurrency = config.max_concurrency
        self.max_answer_chars = config.max_answer_chars
        self.breaker = breaker or CircuitBreaker(
            config.breaker_failures, config.breaker_reset, clock
        )
        self.in_flight = 0

    @property
    def name(self) -> str:
        return self.backend.name

    async def enter(self) -> str:
        """Take a place for one question; the reason when the back end must be skipped."""
        if self.in_flight >= self.max_concurrency:
            return "busy"
        self.in_flight += 1  # before the breaker's (possibly remote) answer, so none overtakes
        if not await self.breaker.allow():
            self.in_flight -= 1
            metrics.BREAKER_OPENED.labels(self.name).inc()
            return "circuit open"
        return ""

    async def leave(self) -> None:
        self.in_flight -= 1
        await self.breaker.release()

    async def settle(self, error: BackendError | None) -> None:
        # A refusal (400, 401) came from a back end that is up: it does not trip the breaker.
        if error is not None and error.retryable:
            await self.breaker.failed()
        else:
            await self.breaker.succeeded()

    async def stream(self, query: Query) -> AsyncIterator[Event]:
        """The back end's events, each within its deadline: the first within
        ``first_token_timeout``, all of them within ``timeout``; an answer longer than
        ``max_answer_chars`` is cut there (the back end stopped) and marked ``truncated``."""
        now = asyncio.get_running_loop().time()
        deadline = Deadline(now + self.first_token_timeout)
        events = self.backend.stream(query)
        cap = self.max_answer_chars
        text = ""  # the answer so far: where to cut it
        first = True
        try:
            async with aclosing(events):  # type: ignore[type-var]
                while True:
                    try:
                        event = await deadline.wait(anext(events))
                    except StopAsyncIteration:
                        raise BackendError(
                            f"{self.name}: the stream ended without an answer"
                        ) from None
                    except TimeoutError:
                        if first:
                            limit = f"no first piece within {self.first_token_timeout:g} s"
                        else:
                            limit = f"not finished within {self.timeout:g} s"
                        raise BackendError(f"{self.name}: {limit}") from None
                    except BackendError:
                        raise
                    except Exception as exc:
                        raise _unexpected(self.name, exc) from exc
                    if first:
                        deadline.move(now + self.timeout)
                        first = False
                    if isinstance(event, Done):
                        if len(event.answer.text) > cap:
                            event = Done(self._cut(event.answer, event.answer.text))
                        yield event
                        return
                    text = text + event.text if isinstance(event, Delta) else event.text
                    if len(text) > cap:
                        over = len(text) - cap
                        if isinstance(event, Delta) and len(event.text) > over:
                            yield Delta(event.text[:-over])
                        elif isinstance(event, Replace):
                            yield Replace(text[:cap])
                        yield Done(self._cut(Answer(text=""), text))
                        return
                    yield event
        finally:
            deadline.cancel()

    def _cut(self, answer: Answer, text: str) -> Answer:
        log.warning("back end %s: answer cut at %d characters", self.name, self.max_answer_chars)
        metrics.ANSWERS_CUT.labels(self.name).inc()
        metadata = {**answer.metadata, TRUNCATED: True}
        return replace(answer, text=text[: self.max_answer_chars], metadata=metadata)

    async def status(self) -> dict[str, Any]:
        breaker = await self.breaker.snapshot()
        metrics.BREAKER_STATE.labels(self.name).set(metrics.BREAKER_VALUES.get(breaker.state, -1))
        return {
            "breaker": breaker.state,
            "consecutive_failures": breaker.failures,
            "in_flight": self.in_flight,
            "max_concurrency": self.max_concurrency,
            "timeout": self.timeout,
            "first_token_timeout": self.first_token_timeout,
        }


def _unexpected(name: str, exc: Exception) -> BackendError:
    # A bug in an adapter, or a reply shaped like nothing it expects: another back end may do.
    log.exception("back end %s failed unexpectedly", name)
    return BackendError(f"{name}: {type(exc).__name__}: {exc}")


@dataclass(frozen=True, slots=True)
class Attempt:
    backend: str
    #: ``answered``, ``not_found``, ``failed``, ``refused``, ``skipped``.
    outcome: str
    detail: str = ""


@dataclass(slots=True)
class Plan:
    """The route chosen for a question, and the question as the back ends will read it."""

    route: RouteConfig
    query: Query
    #: The category of the question's best FAQ hit, when it was needed and sure enough.
    category: str | None = None
    #: A topic-less follow-up joined to the earlier question it follows, for back ends that
    #: do not read the conversation themselves.
    standalone: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    #: Set by whoever delivers the answer once a piece of it has reached the resident: from
    #: then on a failing back end is not failed over (its answer cannot be continued).
    shown: bool = False


class NoAnswer(Exception):
    """No back end answered. ``started``: part of an answer had already reached the resident
    (``Plan.shown``) when its back end failed."""

    def __init__(self, attempts: Sequence[Attempt], started: bool = False) -> None:
        summary = "; ".join(f"{a.backend}: {a.outcome} {a.detail}".strip() for a in attempts)
        super().__init__(summary or "no back end to try")
        self.attempts = list(attempts)
        self.started = started


class Router:
    def __init__(
        self,
        routes: Sequence[RouteConfig],
        backends: Mapping[str, Backend],
        configs: Mapping[str, BackendConfig] | None = None,
        services: Services | None = None,
        config: RoutingConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        breakers: Callable[[str, BackendConfig], Breaker] | None = None,
    ) -> None:
        """``breakers`` makes each back end's breaker (shared ones, gateway/state/breakers.py);
        by default each lives in this process."""
        for route in routes:
            for name in route.backends:
                if name not in backends:
                    raise ConfigError(
                        f"route {route.label!r} names no configured back end {name!r}"
                    )
        if not any(route.catch_all for route in routes):
            raise ConfigError(
                "no route matches every question: add one without agents, languages, "
                "keywords or categories"
            )
        configs = configs or {}
        self.routes = list(routes)
        self.backends = dict(backends)
        self.services = services
        self.config = config or RoutingConfig()
        self.lanes = {}
        for name, backend in backends.items():
            config = configs.get(name) or BackendConfig(name=name, type=backend.type)
            breaker = breakers(name, config) if breakers is not None else None
            self.lanes[name] = Lane(backend, config, clock, breaker)
        self._needs_category = any(route.categories for route in routes)

    @property
    def agents(self) -> list[str]:
        """Every assistant a route is for (the names residents can pick)."""
        return list(dict.fromkeys(agent for route in self.routes for agent in route.agents))

    def routes_of(self, backend: str) -> list[str]:
        return [route.label for route in self.routes if backend in route.backends]

    # -- choosing the route ----------------------------------------------------------------

    @metrics.timed("route")
    async def plan(self, query: Query) -> Plan:
        hit: Hit | None = None
        standalone = None
        if self.services is not None and (
            self._needs_category or (query.history and self.config.follow_up_turns)
        ):
            standalone, hit = await self._topic(query)
        category = hit.entry.category if hit is not None else None
        said = replace(query, text=standalone) if standalone else query
        for route in self.routes:
            if _matches(route, said, category):
                return Plan(route, query, category, standalone)
        raise AssertionError("the catch-all route matches every question")  # pragma: no cover

    async def _topic(self, query: Query) -> tuple[str | None, Hit | None]:
        """The question's best FAQ hit, if sure enough; a follow-up that names no topic
        (its best hit's own question is mostly unsaid in it) is read together with the
        earlier questions of the conversation, latest first, until one gives a sure hit."""
        assert self.services is not None
        index = await self.services.index()
        threshold = self.config.min_confidence
        hits = index.search(query.text, limit=1)
        alone = hits[0] if hits else None
        coverage = index.coverage(query.text, alone.entry) if alone else 0.0
        sure = alone if alone and alone.confidence >= threshold else None
        # A question without a word the knowledge base knows (谢谢) is no follow-up to it.
        # Dense retrieval finds some entry for anything, so a Chinese question must share a
        # word with the base; a foreign one has none to share and is judged by meaning alone.
        if alone is not None and query.language.startswith("zh"):
            alone = alone if index.search(query.text, limit=1, mode="bm25") else None
        if alone is None or coverage >= self.config.follow_up_coverage or not query.history:
            return None, sure
        earlier = [turn.content for turn in reversed(query.history) if turn.role == "user"]
        # The latest earlier question that names a topic itself gives it: one that was a
        # follow-up too (需要多久 before 在哪里办) names none and is passed over. Failing
        # that (a question BM25 cannot read names its topic by meaning, which coverage rates
        # lower), the latest that makes the follow-up say more of its best hit.
        fallback = None
        for previous in earlier[: self.config.follow_up_turns]:
            combined = f"{previous} {query.text}"
            found = index.search(combined, limit=1)
            if not found or found[0].confidence < threshold:
                continue
            named = index.search(previous, limit=1)
            if named and index.coverage(previous, named[0].entry) >= self.config.follow_up_coverage:
                return combined, found[0]
            if fallback is None and index.coverage(combined, found[0].entry) > coverage:
                fallback = combined, found[0]
        if fallback is not None:
            return fallback
        return None, sure

    # -- answering -------------------------------------------------------------------------

    async def stream(
        self, plan: Plan, conversation_ids: Mapping[str, str] | None = None
    ) -> AsyncIterator[tuple[Backend, Event]]:
        """``(back end, event)`` pairs of the answering back end, ending with its ``Done``
        (``found`` false when no back end had an answer). Raises :class:`NoAnswer`."""
        not_found: tuple[Backend, Answer] | None = None
        for lane in self._lanes(plan):
            if not await self._enter(lane, plan):
                continue
            began = time.perf_counter()
            try:
                async with aclosing(
                    lane.stream(self._query_for(plan, lane, conversation_ids))
                ) as events:
                    async for event in events:
                        if not isinstance(event, Done):
                            yield lane.backend, event
                            continue
                        await lane.settle(None)
                        if event.answer.found or plan.shown:
                            _attempt(plan, lane, "answered", began)
                            yield lane.backend, event
                            return
                        _attempt(plan, lane, "not_found", began)
                        not_found = not_found or (lane.backend, event.answer)
                        break
            except BackendError as error:
                await lane.settle(error)
                if plan.shown:
                    _attempt(plan, lane, "failed", began, f"after part was shown: {error}")
                    log.warning("back end %s failed mid-answer: %s", lane.name, error)
                    raise NoAnswer(plan.attempts, started=True) from error
                if not self._failed(plan, lane, error, began):
                    break
            finally:
                await lane.leave()
        if not_found is not None:
            yield not_found[0], Done(not_found[1])
            return
        raise NoAnswer(plan.attempts)

    def _lanes(self, plan: Plan) -> list[Lane]:
        return [self.lanes[name] for name in _unique(plan.route.backends)]

    async def _enter(self, lane: Lane, plan: Plan) -> bool:
        reason = await lane.enter()
        if reason:
            _attempt(plan, lane, "skipped", None, reason)
            metrics.FAILOVERS.labels(lane.name).inc()
            log.info("back end %s skipped: %s", lane.name, reason)
        return not reason

    def _failed(self, plan: Plan, lane: Lane, error: BackendError, started: float) -> bool:
        """Record a failure; whether to go on to the next back end."""
        outcome = "failed" if error.retryable else "refused"
        _attempt(plan, lane, outcome, started, str(error))
        log.warning("back end %s %s: %s", lane.name, outcome, error)
        if error.retryable:
            metrics.FAILOVERS.labels(lane.name).inc()
        return error.retryable

    @staticmethod
    def _query_for(plan: Plan, lane: Lane, conversation_ids: Mapping[str, str] | None) -> Query:
        conversation_id = (conversation_ids or {}).get(lane.name, "")
        text = plan.query.text
        if plan.standalone and not lane.backend.follows_conversation:
            text = plan.standalone
        if conversation_id == plan.query.conversation_id and text == plan.query.text:
            return plan.query
        return replace(plan.query, text=text, conversation_id=conversation_id)

    async def status(self) -> dict[str, dict[str, Any]]:
        return {name: await lane.status() for name, lane in self.lanes.items()}


def _attempt(plan: Plan, lane: Lane, outcome: str, started: float | None, detail: str = "") -> None:
    """Record what a back end did with the question, in the plan and in the metrics."""
    plan.attempts.append(Attempt(lane.name, outcome, detail))
    metrics.BACKEND_REQUESTS.labels(lane.name, outcome).inc()
    if started is not None:
        metrics.BACKEND_SECONDS.labels(lane.name, outcome).observe(time.perf_counter() - started)


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _matches(route: RouteConfig, query: Query, category: str | None) -> bool:
    if route.agents and query.agent not in route.agents:
        return False
    if route.languages:
        spoken = {query.language.lower(), query.locale.lower(), query.locale.split("-")[0].lower()}
        if not spoken & {language.lower() for language in route.languages}:
            return False
    if route.keywords or route.categories:
        said = f"{query.text} {query.original}"
        by_keyword = any(keyword in said for keyword in route.keywords)
        by_category = category is not None and category in route.categories
        return by_keyword or by_category
    return True
