"""What the gateway answers a resident, whatever door the question came in by.

:class:`ChatService` (gateway/chat.py) produces these; the HTTP API maps them to its JSON
reply, its Server-Sent Events and the OpenAI facade's chunks (gateway/api/replies.py). Nothing
here knows about HTTP, so the core never imports ``gateway.api``.

A streamed reply is a sequence of :data:`ReplyEvent`: ``Delta``/``Replace`` pieces of the answer
as the resident is to see them (reviewed, in their language), then one :class:`Finished` with
the whole :class:`Reply`, or one :class:`Failed`. The blocking reply is that stream collected
(``ChatService.answer``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.backends.base import Citation, Delta, Replace
from gateway.errors import GatewayError


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the resident is told beside the answer (a hidden number, a translation)."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Reply:
    message_id: str
    session_id: str
    #: Markdown, reviewed, in the resident's language and script.
    answer: str
    #: ``answer`` as plain text (for read-aloud); empty when the caller never shows it.
    answer_text: str
    #: Language of ``answer``.
    language: str
    #: False when no back end had an answer.
    found: bool
    citations: tuple[Citation, ...] = ()
    #: Related questions the resident may ask next.
    suggestions: tuple[str, ...] = ()
    notices: tuple[Notice, ...] = ()
    #: The back end that answered.
    backend: str = ""
    #: The question as understood, when correction changed what the resident typed.
    did_you_mean: str | None = None
    #: When the answer was machine translated: the answer as the back end wrote it.
    original_answer: str | None = None


@dataclass(frozen=True, slots=True)
class Finished:
    """The streamed reply is complete."""

    reply: Reply


@dataclass(frozen=True, slots=True)
class Failed:
    """No answer: ``error`` says why, in the resident's language (``GatewayError.body``)."""

    error: GatewayError


@dataclass(frozen=True, slots=True)
class HotQuestion:
    id: str
    question: str
    category: str


ReplyEvent = Delta | Replace | Finished | Failed
