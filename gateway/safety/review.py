"""Safety on the question's path: what ``ChatService`` calls.

- :meth:`Safety.review_question` — after understanding and masking: lexicon terms with action
  ``block`` refuse the question politely, ``mask`` hide the words (the resident is told),
  ``review`` log it.
- :meth:`Safety.screen` — once the route is known: prompt-injection screening when the route
  has a back end that writes with a language model (``Backend.uses_language_model``,
  ``[safety] injection_action``).
- :meth:`Safety.review` — every answer before the resident sees it, on its event stream (a
  blocking reply is the same stream collected): each piece as it arrives
  (:class:`StreamReview`), then the complete answer: Markdown/HTML cleaned, citation
  addresses http(s) only, lexicon terms withdrawn, masked or logged.

The lexicon is swapped whole by :meth:`Safety.reload`: a question being reviewed keeps the
lexicon it started with, so a reload drops nothing. docs/safety.md.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import locales
from gateway import metrics
from gateway.backends.base import Answer, Backend, Citation, Delta, Done, Event, Query, Replace
from gateway.config import ConfigError, SafetyConfig, Settings
from gateway.errors import GatewayError
from gateway.replies import Notice
from gateway.safety.audit import AuditLog, excerpt
from gateway.safety.injection import InjectionScreen
from gateway.safety.lexicon import Lexicon, LexiconError, Match, masked, strongest
from gateway.safety.normalize import aligned, letter_noise, table
from gateway.safety.output import plain_text, safe_link, safe_url, sanitize_markdown

if TYPE_CHECKING:
    from gateway.routing import Plan
    from gateway.state.store import Store

log = logging.getLogger("gateway.safety")

SAMPLE_LEXICON = "sample"


def lexicon_paths(config: SafetyConfig) -> list[Path]:
    paths = []
    for name in config.lexicons:
        if name == SAMPLE_LEXICON:
            paths.append(Path(str(resources.files("gateway") / "data" / "lexicon-sample.tsv")))
        else:
            paths.append(Path(name).expanduser())
    return paths


def load_lexicon(config: SafetyConfig) -> Lexicon:
    try:
        return Lexicon.from_files(lexicon_paths(config))
    except LexiconError as exc:
        raise ConfigError(str(exc)) from exc


class Safety:
    def __init__(
        self,
        config: SafetyConfig,
        audit: AuditLog,
        lexicon: Lexicon | None = None,
        hotline: str = "12345",
    ) -> None:
        self.config = config
        self.audit = audit
        self.hotline = hotline
        self.lexicon = lexicon if lexicon is not None else load_lexicon(config)
        self.injection = InjectionScreen(config.injection_patterns)
        self._reloading = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, store: Store | None = None) -> Safety:
        config = settings.safety
        return cls(config, AuditLog(store, config.audit_memory), hotline=settings.service.hotline)

    # -- lexicon -----------------------------------------------------------------------------

    async def reload(self) -> dict[str, Any]:
        """Read the lexicon files again and swap the new lexicon in; questions under review
        meanwhile finish with the old one. A file that cannot be read keeps the old one."""
        async with self._reloading:
            lexicon = await asyncio.to_thread(load_lexicon, self.config)
            self.lexicon = lexicon
        self.audit.record("lexicon_reloaded", stage="admin", rule=f"{len(lexicon)} terms")
        return self.status()

    def status(self) -> dict[str, Any]:
        lexicon = self.lexicon
        return {
            "terms": len(lexicon),
            "longest_term": lexicon.longest,
            "sources": lexicon.sources,
            "build_seconds": round(lexicon.build_seconds, 3),
            "injection_action": self.config.injection_action,
        }

    # -- questions ---------------------------------------------------------------------------

    @metrics.timed("review_question")
    def review_question(
        self, query: Query, notices: list[Notice], personal_data: Sequence[str] = ()
    ) -> Query:
        """The question as it may go on (lexicon ``mask`` terms hidden, the resident told in
        ``notices``); raises ``GatewayError("question_blocked")`` for a ``block`` term."""
        for kind in personal_data:
            self.audit.record(
                "personal_data_masked", stage="question", category=kind, session_id=query.session_id
            )
        if not self.config.review_questions:
            return query
        lexicon = self.lexicon
        matches = lexicon.scan(query.text)
        original = lexicon.scan(query.original) if query.original != query.text else matches
        self.record_matches(matches + original, "question", query)
        if strongest(matches + original) == "block":
            raise GatewayError("question_blocked")
        if not any(match.action == "mask" for match in matches + original):
            return query
        notices.append(
            Notice(code="words_hidden", message=locales.text("notice.words_hidden", query.locale))
        )
        return replace(
            query, text=masked(query.text, matches), original=masked(query.original, original)
        )

    def screen(self, plan: Plan, backends: Mapping[str, Backend]) -> None:
        """Prompt-injection screening of a planned question; may narrow ``plan.route`` to the
        back ends without a language model, or raise ``GatewayError("question_refused")``."""
        action = self.config.injection_action
        if action == "off":
            return
        models = [name for name in plan.route.backends if backends[name].uses_language_model]
        if not models:
            return
        query = plan.query
        said = [query.text, query.original, *(turn.content for turn in query.history)]
        findings = [finding for text in said if text for finding in self.injection.findings(text)]
        if not findings:
            return
        for name in dict.fromkeys(finding.name for finding in findings):
            self.audit.record(
                "injection",
                stage="question",
                action=action,
                rule=name,
                session_id=query.session_id,
                backend=",".join(models),
            )
        if action == "review":
            return
        others = [name for name in plan.route.backends if name not in models]
        if action == "block" or not others:
            raise GatewayError("question_refused")
        plan.route = plan.route.model_copy(update={"backends": others})

    # -- answers -----------------------------------------------------------------------------

    @metrics.timed("review_answer")
    def _whole(self, answer: Answer, query: Query, backend: str = "") -> Answer:
        """The complete answer as the resident may see it."""
        text = sanitize_markdown(answer.text)
        verdict = self._verdict(text, query, backend) if self.config.review_answers else None
        if verdict is not None and verdict.withdrawn:
            return self.withdrawn(answer, query)
        return replace(
            answer,
            text=verdict.text if verdict is not None else text,
            citations=self._citations(answer.citations),
            suggestions=[s for s in (self._line(s) for s in answer.suggestions) if s],
        )

    def withdrawn(self, answer: Answer, query: Query) -> Answer:
        """``answer`` replaced by the safe message."""
        return replace(
            answer,
            text=self.withdrawal_message(query),
            citations=[],
            suggestions=[],
            language=query.locale,
            entry_id=None,
            metadata={**answer.metadata, "withdrawn": True},
        )

    def withdrawal_message(self, query: Query) -> str:
        return locales.text("answer.withdrawn", query.locale, hotline=self.hotline)

    def record_matches(
        self,
        matches: Sequence[Match],
        stage: str,
        query: Query,
        backend: str = "",
        answer: str | None = None,
    ) -> None:
        """Audit each term found once; an ``answer`` (a back end's text) is quoted around the
        term, a question never is."""
        for match in _unique(matches):
            self.audit.record(
                f"{stage}_{_verb(match.action)}",
                stage=stage,
                action=match.action,
                category=match.category,
                rule=match.term,
                excerpt=excerpt(answer, match.start, match.end) if answer is not None else "",
                session_id=query.session_id,
                backend=backend,
            )

    def _verdict(self, text: str, query: Query, backend: str) -> _Verdict:
        matches = self.lexicon.scan(text)
        self.record_matches(matches, "answer", query, backend, answer=text)
        return _Verdict(masked(text, matches), strongest(matches) == "block")

    def _line(self, text: str) -> str:
        """A citation title, snippet or suggested question: plain text; dropped ("") when it
        holds a ``block`` term, its ``mask`` terms hidden."""
        text = plain_text(text)
        matches = self.lexicon.scan(text) if self.config.review_answers else []
        if strongest(matches) == "block":
            return ""
        return masked(text, matches)

    def _citations(self, citations: Sequence[Citation]) -> list[Citation]:
        kept = []
        for citation in citations:
            title = self._line(citation.title)
            if not title and citation.title:
                continue
            snippet = self._line(citation.snippet)
            kept.append(replace(citation, title=title, url=safe_url(citation.url), snippet=snippet))
        return kept

    async def review(
        self, events: AsyncIterator[tuple[Backend, Event]], query: Query
    ) -> AsyncIterator[tuple[Backend, Event]]:
        """The router's events, reviewed before any piece reaches the resident. The review
        starts again when another back end takes over (the router failed over: nothing of
        the first one's answer was shown)."""
        review = StreamReview(self, query)
        async with aclosing(events):  # type: ignore[type-var]
            async for backend, event in events:
                if review.backend != backend.name:
                    review = StreamReview(self, query)
                    review.backend = backend.name
                if isinstance(event, Done):
                    for piece in review.finish(event.answer):
                        yield backend, piece
                    return
                for piece in review.feed(event):
                    yield backend, piece
                if review.withdrawn:
                    # The back end is stopped (closing its stream); the resident gets the safe
                    # message as the answer.
                    yield backend, Done(self.withdrawn(Answer(text=""), query))
                    return


class _Verdict:
    __slots__ = ("text", "withdrawn")

    def __init__(self, text: str, withdrawn: bool) -> None:
        self.text = text
        self.withdrawn = withdrawn


def _verb(action: str) -> str:
    return {"block": "blocked", "mask": "masked", "review": "flagged"}[action]


def _unique(matches: Sequence[Match]) -> list[Match]:
    return list({(m.term, m.action): m for m in matches}.values())


#: Markup that is held back until the answer is complete and cleaned as a whole: raw HTML,
#: autolinks, link definitions.
_HTML_START = re.compile(r"<[A-Za-z/!?]")
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:", re.MULTILINE)
_LINK_TARGET = re.compile(r"\]\(\s*<?([^\s)>]*)(\)|\s|>)?")


class StreamReview:
    """Reviews a streamed answer as it arrives. What has been sent is always a reviewed
    prefix of the answer:

    - the last characters that could still be the start of a lexicon term (as many as the
      longest term, in normalized characters, letters slipped between Chinese characters not
      counted) are held back until the next piece shows whether they are, so a blocked term
      is never sent, not even in part;
    - raw HTML and link targets are held back until they are known to be safe, or — for HTML
      and unsafe links — until the answer is complete and has been cleaned as a whole;
    - a ``block`` term withdraws the answer: one ``Replace`` with the safe message, and the
      back end is stopped;
    - when the complete, cleaned answer does not continue what was sent (cleaning removed
      markup, a Latin term turned out to be part of a longer word), a ``Replace`` sends it
      whole.
    """

    def __init__(self, safety: Safety, query: Query) -> None:
        self.safety = safety
        self.query = query
        self.lexicon = safety.lexicon
        self.received = ""
        self.sent = ""
        self.withdrawn = False
        self.backend = ""

    def feed(self, event: Event) -> list[Event]:
        if isinstance(event, Delta):
            self.received += event.text
        elif isinstance(event, Replace):
            self.received = event.text
        if not self.safety.config.review_answers:
            return self._send(self.received[: self._markup_hold(self.received)])
        matches = self.lexicon.scan(self.received)
        settled = [m for m in matches if not self._pending(m)]
        if strongest(settled) == "block":
            self.safety.record_matches(
                settled, "answer", self.query, self.backend, answer=self.received
            )
            self.withdrawn = True
            return [Replace(self.safety.withdrawal_message(self.query))]
        cut = min(self._lexicon_hold(self.received, matches), self._markup_hold(self.received))
        return self._send(masked(self.received, settled)[:cut])

    def finish(self, answer: Answer) -> list[Event]:
        reviewed = self.safety._whole(answer, self.query, self.backend)
        events: list[Event] = []
        if reviewed.text.startswith(self.sent):
            if len(reviewed.text) > len(self.sent):
                events.append(Delta(reviewed.text[len(self.sent) :]))
        else:
            events.append(Replace(reviewed.text))
        events.append(Done(reviewed))
        return events

    def _send(self, shown: str) -> list[Event]:
        if shown == self.sent:
            return []
        if shown.startswith(self.sent):
            piece = Delta(shown[len(self.sent) :])
        elif self.sent.startswith(shown):
            return []  # held back further than before: wait
        else:
            piece = Replace(shown)  # type: ignore[assignment]
        self.sent = shown
        return [piece]

    def _pending(self, match: Match) -> bool:
        """A Latin term at the very end may yet be the start of a longer word."""
        return match.end == len(self.received) and match.term.isascii()

    def _lexicon_hold(self, text: str, matches: Sequence[Match]) -> int:
        keep = self.lexicon.longest - 1
        # Only the end of the text can hold the start of a term: look at enough of it for the
        # longest term with two letters slipped after each character, and some noise.
        start = max(0, len(text) - 3 * keep - 64)
        normalized, origin = aligned(text[start:])
        slipped: set[int] = set()
        for first, after in letter_noise(normalized, open_end=True):
            slipped.update(range(first, after))
        position = len(normalized)
        while position > 0 and keep > 0:
            position -= 1
            if position not in slipped:
                keep -= 1
        while position > 0 and position - 1 in slipped:
            position -= 1  # slipped in before the first held character: part of the term
        if keep > 0:
            cut = start  # all of the end looked at may be a term's start
        elif position < len(normalized):
            cut = start + origin[position]
        else:
            cut = len(text)
        mapping = table()
        # Noise right before the held part may be inside a term still being written.
        while cut > 0 and not mapping.get(ord(text[cut - 1]), text[cut - 1]):
            cut -= 1
        for match in matches:
            if self._pending(match):
                cut = min(cut, match.start)
        return cut

    @staticmethod
    def _markup_hold(text: str) -> int:
        cut = len(text)
        html = _HTML_START.search(text)
        if html:
            cut = html.start()
        definition = _LINK_DEFINITION.search(text)
        if definition:
            cut = min(cut, definition.start())
        for link in _LINK_TARGET.finditer(text, 0, cut):
            target, closed = link.group(1), link.group(2)
            if closed is None or not safe_link(target):
                return min(cut, link.start())
        return cut
