"""Prometheus metrics (prometheus-client), served at ``/metrics`` (gateway/api/observe.py).

Every metric is defined here, so the list below is the whole of what the gateway exports.
Labels hold names from the configuration and small fixed sets — never a question, a session
or an address. With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
folder shared by them and ``/metrics`` reports them all (docs/deployment.md).
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, TypeVar

from prometheus_client import Counter, Gauge, Histogram

#: Seconds: from a tenth of a millisecond (understanding stages) to a minute (a slow model).
BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip

HTTP_REQUESTS = Counter(
    "gateway_http_requests_total",
    "HTTP requests, by route template, method and status code.",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "gateway_http_request_seconds",
    "Time to the end of the response (whole streams included), by route template.",
    ["route"],
    buckets=BUCKETS,
)
STAGE_SECONDS = Histogram(
    "gateway_stage_seconds",
    "Time of each step of a question's path: the understanding stages (sanitize …), "
    "review, translate, route.",
    ["stage"],
    buckets=BUCKETS,
)
BACKEND_REQUESTS = Counter(
    "gateway_backend_requests_total",
    "Questions put to each back end, by outcome: answered, not_found, failed, refused, skipped.",
    ["backend", "outcome"],
)
BACKEND_SECONDS = Histogram(
    "gateway_backend_seconds",
    "Time each back end took (to the end of its answer), by outcome.",
    ["backend", "outcome"],
    buckets=BUCKETS,
)
FAILOVERS = Counter(
    "gateway_failovers_total",
    "Questions passed on from a back end (failed or skipped) to the route's next one.",
    ["backend"],
)
ANSWERS_CUT = Counter(
    "gateway_answers_cut_total",
    "Answers longer than their back end's max_answer_chars, cut there.",
    ["backend"],
)
BREAKER_STATE = Gauge(
    "gateway_breaker_state",
    "Each back end's circuit breaker: 0 closed, 1 half-open, 2 open (as seen at scrape time).",
    ["backend"],
    multiprocess_mode="mostrecent",
)
BREAKER_OPENED = Counter(
    "gateway_breaker_opened_total",
    "Times a back end's breaker was found open and the back end skipped.",
    ["backend"],
)
QUESTIONS = Counter(
    "gateway_questions_total",
    "Questions by the resident's language (the question's, after detection).",
    ["language"],
)
UNDERSTANDING_CACHE = Counter(
    "gateway_understanding_cache",
    "Questions whose analysis was found among the recent ones (hit) or made anew (miss).",
    ["result"],
)
CORRECTIONS = Counter(
    "gateway_corrections_total",
    "Questions an understanding stage changed (typo, pinyin, script, …), by stage.",
    ["stage"],
)
SAFETY_EVENTS = Counter(
    "gateway_safety_events_total",
    "Safety audit events (gateway/safety/audit.py), by kind.",
    ["kind"],
)
UNANSWERED = Counter(
    "gateway_unanswered_total",
    "Questions kept for operators because nothing answered them, by reason.",
    ["reason"],
)
FEEDBACK = Counter(
    "gateway_feedback_total",
    "Residents' ratings of answers.",
    ["helpful"],
)

BACKEND_TOKENS = Counter(
    "gateway_backend_tokens_total",
    "Tokens the engines behind the back ends report having used, by back end and kind "
    "(prompt, completion).",
    ["backend", "kind"],
)

BREAKER_VALUES = {"closed": 0, "half_open": 1, "open": 2}


@functools.cache
def stage_histogram(name: str) -> Histogram:
    """The histogram of stage ``name``, found once (``labels`` takes a lock and builds a key
    every time; the understanding pipeline observes seven stages per question)."""
    return STAGE_SECONDS.labels(name)


def count_tokens(backend: str, prompt: Any, completion: Any) -> None:
    """Add the tokens one answer used, as its engine reported them (non-numbers are ignored:
    engines that report nothing send nulls)."""
    for kind, value in (("prompt", prompt), ("completion", completion)):
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            BACKEND_TOKENS.labels(backend, kind).inc(value)


@contextmanager
def stage(name: str):  # type: ignore[no-untyped-def]
    """Time a step of the question's path."""
    started = time.perf_counter()
    try:
        yield
    finally:
        stage_histogram(name).observe(time.perf_counter() - started)


F = TypeVar("F", bound=Callable[..., Any])


def timed(name: str) -> Callable[[F], F]:
    """Decorate a function or coroutine function: each call is timed as stage ``name``."""
    histogram = STAGE_SECONDS.labels(name)

    def decorate(function: F) -> F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def timed_coroutine(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await function(*args, **kwargs)
                finally:
                    histogram.observe(time.perf_counter() - started)

            return timed_coroutine  # type: ignore[return-value]

        @functools.wraps(function)
        def timed_function(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - started)

        return timed_function  # type: ignore[return-value]

    return decorate
