"""The back-end contract: what the gateway hands a question-answering engine and what it gets back.

A back end implements :meth:`Backend.stream` (an async iterator of :class:`Delta`/:class:`Replace`
events ending with one :class:`Done`) or, when its engine only answers whole, :meth:`Backend.ask`
(one complete :class:`Answer`), which the default ``stream`` sends as one piece. The gateway only
ever calls ``stream``: a blocking reply is the stream collected. :meth:`Backend.health` reports
whether it can answer now. Failures are raised as :class:`BackendError`, which says whether trying
another back end may help. docs/backends.md walks through writing one.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import BaseModel

from gateway.extensions import Extension

if TYPE_CHECKING:
    from gateway.services import Services
    from gateway.state.answers import AnswerRecord


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier message of the conversation, already masked."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class Query:
    """A question as the gateway sends it to a back end."""

    #: The question as the back end should read it: cleaned, corrected, masked, in ``language``.
    text: str
    #: Language of ``text`` (``zh`` unless a back end declares it reads others).
    language: str = "zh"
    #: The gateway's conversation id; back ends map it to their own conversation ids.
    session_id: str = ""
    #: Earlier turns, oldest first.
    history: Sequence[Turn] = ()
    #: The resident's UI locale (``zh-CN``, ``en`` …), for back ends that localize.
    locale: str = "zh-CN"
    #: What the resident typed, masked, before correction and translation.
    original: str = ""
    #: The assistant or service category the resident picked in the UI, if any.
    agent: str | None = None
    #: This back end's own id for the conversation (Dify, FastGPT, MaxKB), as it returned it
    #: in ``Answer.conversation_id`` with an earlier answer of the session; empty at first.
    conversation_id: str = ""


@dataclass(frozen=True, slots=True)
class Citation:
    """A source under an answer. ``url`` is http(s) or empty."""

    title: str
    url: str = ""
    snippet: str = ""
    score: float | None = None


@dataclass(slots=True)
class Answer:
    """A complete answer."""

    #: Markdown.
    text: str
    citations: list[Citation] = field(default_factory=list)
    #: False when the back end has no answer to this question (not an error): the gateway
    #: tries the next back end of the route, then tells the resident politely.
    found: bool = True
    #: Related questions the resident may ask next.
    suggestions: list[str] = field(default_factory=list)
    #: Language of ``text``.
    language: str = "zh"
    #: The knowledge-base entry the answer came from, when there is one (for curated
    #: translations and operators' statistics).
    entry_id: str | None = None
    category: str | None = None
    #: Anything else worth keeping in the trace (scores, back-end ids). Under
    #: :data:`MESSAGE_ID`, the back end's own id of this answer: it is kept with the answer's
    #: record and handed back to :meth:`Backend.feedback` when the resident rates it.
    metadata: dict[str, Any] = field(default_factory=dict)
    #: The back end's own id for the conversation, handed back with the session's next
    #: question as ``Query.conversation_id``.
    conversation_id: str = ""


#: ``Answer.metadata`` key of the back end's own message id (Dify's ``message_id`` …).
MESSAGE_ID = "message_id"
#: ``Answer.metadata`` key set when the answer was cut at ``max_answer_chars``.
TRUNCATED = "truncated"


@dataclass(frozen=True, slots=True)
class Delta:
    """The next piece of the answer's text."""

    text: str


@dataclass(frozen=True, slots=True)
class Replace:
    """Everything streamed so far is withdrawn and replaced by ``text`` (e.g. by moderation)."""

    text: str


@dataclass(frozen=True, slots=True)
class Done:
    """The stream is complete; ``answer.text`` is the whole text."""

    answer: Answer


Event = Delta | Replace | Done


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    detail: str = ""


class BackendError(Exception):
    """The back end failed. ``retryable`` failures (connection, timeout, 429, 5xx) let the
    gateway try the route's next back end; the others (bad request, refused key) do not."""

    def __init__(self, message: str, *, retryable: bool = True, status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class Backend(Extension, ABC):
    """A question-answering engine. Subclasses set ``type`` and, when they take options,
    ``Options`` (a pydantic model validated from the back end's TOML table)."""

    type: ClassVar[str]
    #: True when the back end reads the conversation itself (``Query.history`` or its own
    #: conversation id): it gets a follow-up as the resident said it. Others get a topic-less
    #: follow-up joined to the earlier question it follows (docs/routing.md).
    follows_conversation: ClassVar[bool] = False
    #: True when the back end writes its answers with a language model (an LLM, a RAG
    #: pipeline, an engine such as Dify): its questions are screened for prompt injection
    #: (``[safety] injection_action``). A back end that only looks answers up leaves it False.
    uses_language_model: ClassVar[bool] = False
    #: True when the back end reads questions in every language (retrieval by meaning): with
    #: only such back ends configured, questions reach them untranslated.
    reads_every_language: ClassVar[bool] = False

    def __init__(self, name: str, options: BaseModel, services: Services) -> None:
        self.name = name
        self.options = options
        self.services = services

    @classmethod
    def build(cls, options: Any, services: Services | None, **context: Any) -> Self:
        return cls(context["name"], options, services)  # type: ignore[arg-type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.ask is Backend.ask and cls.stream is Backend.stream and "type" in cls.__dict__:
            raise TypeError(f"{cls.__name__} must implement ask() or stream()")

    @property
    def streams(self) -> bool:
        """Whether answers arrive piece by piece: the back end has a ``stream`` of its own
        (the default one sends the whole answer at once, when it is ready)."""
        return type(self).stream is not Backend.stream

    async def startup(self) -> None:
        """Load indexes, open clients. Called once before the first question."""

    async def aclose(self) -> None:
        """Release what :meth:`startup` opened."""

    async def health(self) -> Health:
        return Health(ok=True)

    async def feedback(self, record: AnswerRecord, helpful: bool, comment: str) -> None:
        """The resident rated an answer of this back end (``record``: what was asked and
        answered, with ``record.metadata``: the answer's ``Answer.metadata``, where an adapter put
        its engine's message id (:data:`MESSAGE_ID`) and whatever else rating it needs;
        ``comment`` is masked). Engines that learn from ratings forward it; errors raised here
        are logged, never shown to the resident. By default nothing is done."""

    async def ask(self, query: Query) -> Answer:
        answer: Answer | None = None
        async for event in self.stream(query):
            if isinstance(event, Done):
                answer = event.answer
        if answer is None:
            raise BackendError(f"{self.name}: the stream ended without an answer")
        return answer

    async def stream(self, query: Query) -> AsyncIterator[Event]:
        answer = await self.ask(query)
        if answer.text:
            yield Delta(answer.text)
        yield Done(answer)
