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
from gateway.safety.lexicon import MASK, Lexicon, LexiconError, Match, masked, strongest
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
        self, events: AsyncIterator[tuple[Backend, Event]], query: Query, live: bool = True
    ) -> AsyncIterator[tuple[Backend, Event]]:
        """The router's events, reviewed before any piece reaches the resident. The review
        starts again when another back end takes over (the router failed over: nothing of
        the first one's answer was shown). Not ``live`` (the reply is collected, nobody sees
        its pieces): only the complete answer is reviewed, as a whole."""
        async with aclosing(events):  # type: ignore[type-var]
            if not live:
                async for backend, event in events:
                    if isinstance(event, Done):
                        yield backend, Done(self._whole(event.answer, query, backend.name))
                        return
                return
            review = StreamReview(self, query)
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
#: CommonMark's link labels are at most 999 characters long: a definition is found by looking
#: at no more than this much before a new ``:``.
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]{1,999}\]:", re.MULTILINE)
_DEFINITION_SPAN = 3 + 1 + 999 + 2
#: A link target longer than this is not waited for: it is held back with the rest of the
#: answer until the answer is complete (so that a stream never reads one target again and
#: again for ever).
_TARGET_CHARS = 2048
#: A piece without one of these cannot begin or complete HTML, a definition or a link (a ``<``
#: at the end of the last piece is looked at again).
_MARKUP_CHARS = frozenset("<:(")
_TARGET_END = re.compile(r"[\s)>]")
_LINK_TARGET = re.compile(rf"\]\(\s*<?([^\s)>]{{0,{_TARGET_CHARS}}})(\)|\s|>)?")


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

    Each piece costs time in proportion to its own length, not the answer's so far (an LLM
    sends a token at a time): the lexicon is searched by a :class:`StreamScan`, markup is
    looked for in the new text and the few characters before it a pattern can reach back.
    """

    def __init__(self, safety: Safety, query: Query) -> None:
        self.safety = safety
        self.query = query
        self.lexicon = safety.lexicon
        self.withdrawn = False
        self.backend = ""
        self._start("")
        self._sent: list[str] = []
        self._sent_chars = 0

    @property
    def received(self) -> str:
        return "".join(self._scan.chars)

    @property
    def sent(self) -> str:
        return "".join(self._sent)

    @property
    def examined(self) -> int:
        """Characters the review has looked at so far, normalized or searched for markup: the
        cost that grew with the square of the answer's length when every piece meant reading
        the answer so far again (issue 18)."""
        return self._scan.examined + self._markup.examined

    def feed(self, event: Event) -> list[Event]:
        if isinstance(event, Replace):
            self._start(event.text)
            piece, whole = event.text, True
        else:
            piece, whole = (event.text if isinstance(event, Delta) else ""), False
        before = len(self._scan.chars)
        found = self._scan.feed(piece)
        markup = self._markup.hold(self._scan.chars, before, piece)
        if not self.safety.config.review_answers:
            return self._send_whole(markup) if whole else self._extend(markup, [])
        if not found:
            cut = min(self._scan.hold(), markup)
            return self._send_whole(cut) if whole else self._extend(cut, [])
        self._settled.extend(found)
        if strongest(found) == "block":
            self.safety.record_matches(
                self._settled, "answer", self.query, self.backend, answer=self.received
            )
            self.withdrawn = True
            return [Replace(self.safety.withdrawal_message(self.query))]
        masks = [match for match in found if match.action == "mask"]
        cut = min(self._scan.hold(), markup)
        if whole or any(match.start < self._sent_chars for match in masks):
            return self._send_whole(cut)
        return self._extend(cut, masks)

    def finish(self, answer: Answer) -> list[Event]:
        reviewed = self.safety._whole(answer, self.query, self.backend)
        events: list[Event] = []
        sent = self.sent
        if reviewed.text.startswith(sent):
            if len(reviewed.text) > len(sent):
                events.append(Delta(reviewed.text[len(sent) :]))
        else:
            events.append(Replace(reviewed.text))
        events.append(Done(reviewed))
        return events

    def _start(self, text: str) -> None:
        """Review from scratch (the back end replaced its text)."""
        self._scan = self.lexicon.stream()
        self._markup = _MarkupHold()
        self._settled: list[Match] = []
        self._masks: list[Match] = []  # ``mask`` terms not wholly sent yet

    def _extend(self, cut: int, masks: list[Match]) -> list[Event]:
        """What may be shown grew to ``cut``: send the new part, its terms masked."""
        if masks:
            self._masks.extend(masks)
        done = self._sent_chars
        if cut <= done:
            return []  # held back further than before: wait
        if self._masks:
            chars = self._scan.chars[done:cut]
            for match in self._masks:
                for index in range(max(match.start, done), min(match.end, cut)):
                    chars[index - done] = MASK
            self._masks = [match for match in self._masks if match.end > cut]
            piece = "".join(chars)
        elif cut == done + 1:
            piece = self._scan.chars[done]
        else:
            piece = "".join(self._scan.chars[done:cut])
        self._sent.append(piece)
        self._sent_chars = cut
        return [Delta(piece)]

    def _send_whole(self, cut: int) -> list[Event]:
        """The text to ``cut`` reviewed as a whole, sent as a ``Delta`` when it continues what
        was sent, as a ``Replace`` when it does not."""
        shown = masked(self.received, self._settled)[:cut]
        sent = self.sent
        if shown == sent or sent.startswith(shown):
            return []
        piece: Event = Delta(shown[len(sent) :]) if shown.startswith(sent) else Replace(shown)
        self._sent, self._sent_chars = [shown], len(shown)
        self._masks = [m for m in self._settled if m.action == "mask" and m.end > len(shown)]
        return [piece]


class _MarkupHold:
    """Where markup that must wait begins, found in each piece and the characters before it
    that a pattern can reach back to."""

    def __init__(self) -> None:
        #: HTML, a link definition or an unsafe link: nothing from here on is sent before the
        #: answer is complete and cleaned.
        self.fixed: int | None = None
        #: A link whose target is still arriving.
        self.open_link: int | None = None
        #: Characters looked at (see ``StreamReview.examined``).
        self.examined = 0

    def hold(self, chars: list[str], before: int, piece: str) -> int:
        """How much of ``chars`` may be shown; ``before``: how many were there before
        ``piece``, the last piece."""
        if self.fixed is not None:
            return self.fixed
        if (
            self.open_link is not None
            and not _TARGET_END.search(piece)
            and len(chars) - self.open_link <= _TARGET_CHARS
        ):
            return self.open_link  # the target goes on: read it once it has ended
        if (
            self.open_link is None
            and _MARKUP_CHARS.isdisjoint(piece)
            and not (before and chars[before - 1] == "<")
        ):
            return len(chars)  # no pattern can start or end in this piece
        start = max(before - 1, 0)
        recent = "".join(chars[start:])
        self.examined += len(recent)
        html = _HTML_START.search(recent)
        if html:
            self.fixed = start + html.start()
        if "]:" in recent:
            # ^ must not match where the window happens to begin: one character more is read.
            reach = max(before - _DEFINITION_SPAN, 0)
            window = "".join(chars[max(reach - 1, 0) :])
            self.examined += len(window)
            definition = _LINK_DEFINITION.search(window, 1 if reach else 0)
            if definition:
                at = max(reach - 1, 0) + definition.start()
                self.fixed = at if self.fixed is None else min(self.fixed, at)
        cut = len(chars) if self.fixed is None else self.fixed
        links_from = start if self.open_link is None else min(self.open_link, start)
        self.open_link = None
        text = recent if links_from == start else "".join(chars[links_from:])
        self.examined += len(text) - len(recent) if links_from < start else 0
        for link in _LINK_TARGET.finditer(text, 0, max(cut - links_from, 0)):
            target, closed = link.group(1), link.group(2)
            if closed is None and links_from + link.end() == len(chars):
                self.open_link = links_from + link.start()
                return self.open_link
            if closed is None or not safe_link(target):
                self.fixed = links_from + link.start()
                return self.fixed
        return cut
