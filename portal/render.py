"""The conversation as HTML: the transcript log, its status and alert, and the chips that ask.

Everything here is a pure function of the conversation and the locale, so the markup residents
and screen readers get is tested without a browser. The accessibility script
(``accessibility/portal.js``) reads the ``data-`` attributes written here: ``data-speaker`` and
``data-text`` are what is announced and read aloud, ``data-state`` says when an answer is done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from html import escape
from typing import Any, Literal

from markdown_it import MarkdownIt

import locales

State = Literal["idle", "searching", "streaming", "done"]

#: Scripts that say which language a run of text is in, whatever the UI language.
_SCRIPTS: list[tuple[str, str]] = [
    ("zh", r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"),
    ("ja", r"\u3040-\u30ff"),
    ("ko", r"\uac00-\ud7af\u1100-\u11ff"),
    ("th", r"\u0e00-\u0e7f"),
    ("lo", r"\u0e80-\u0eff"),
    ("ar", r"\u0600-\u06ff\u0750-\u077f"),
    ("ru", r"\u0400-\u04ff"),
]
# A run: letters of one script, with the spaces, digits and punctuation between them.
_RUNS = {
    language: re.compile(
        rf"[{chars}][{chars}\s\d，。、：；！？（）《》“”‘’·,.:;!?()-]*(?<![\s(（])"
    )
    for language, chars in _SCRIPTS
}
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")


@dataclass
class Message:
    """One message of the transcript, as the portal keeps it between events."""

    role: Literal["user", "assistant"]
    text: str
    #: The assistant's answer as Markdown (``text`` is its plain-text form).
    markdown: str = ""
    message_id: str = ""
    #: Language of the answer, as the gateway reports it.
    language: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    did_you_mean: str | None = None
    #: The question as typed, offered again with ``correct: false`` beside ``did_you_mean``.
    asked: str = ""
    error: bool = False

    @classmethod
    def answer(cls, reply: dict[str, Any], asked: str) -> Message:
        """The assistant's message from the gateway's ``ChatResponse``."""
        return cls(
            role="assistant",
            text=reply.get("answer_text") or reply["answer"],
            markdown=reply["answer"],
            message_id=reply.get("message_id", ""),
            language=reply.get("language", ""),
            citations=[c for c in reply.get("citations", []) if _is_web_url(c.get("url", ""))],
            suggestions=list(reply.get("suggestions", [])),
            notices=[notice["message"] for notice in reply.get("notices", [])],
            did_you_mean=reply.get("did_you_mean"),
            asked=asked,
        )


@dataclass
class Transcript:
    """What the transcript shows: the messages, plus the answer on its way."""

    messages: list[Message]
    state: State = "idle"
    #: The answer as streamed so far (Markdown), while ``state`` is "streaming".
    partial: str = ""
    #: A problem to announce as an alert; the message also stays in the transcript.
    alert: str = ""


def render(transcript: Transcript, locale: str) -> str:
    """The conversation region: a named, keyboard-scrollable log, a status and an alert."""

    def t(key: str, **params: Any) -> str:
        return escape(locales.text(key, locale, **params))

    items = [
        _message(message, number, locale) for number, message in enumerate(transcript.messages)
    ]
    if transcript.state == "streaming" and transcript.partial:
        items.append(
            '<article class="message from-assistant streaming" aria-labelledby="streaming-heading">'
            f'<h3 class="speaker" id="streaming-heading">{t("portal.assistant_said")}</h3>'
            f'<div class="answer" dir="auto">{_markdown(transcript.partial)}</div>'
            "</article>"
        )
    if not items:
        items.append(f'<p class="empty">{t("portal.empty")}</p>')
    busy = "true" if transcript.state in ("searching", "streaming") else "false"
    status = t("portal.searching") if transcript.state == "searching" else ""
    # tabindex -1: the log is reached by its shortcut (Alt+Shift+C); it has no scroll of its
    # own to need a place in the tab order.
    return (
        '<div class="conversation">'
        f'<h2 id="conversation-heading" class="section-heading">{t("portal.transcript")}</h2>'
        f'<div id="transcript" class="transcript" role="log" aria-live="off" '
        f'aria-labelledby="conversation-heading" aria-busy="{busy}" tabindex="-1" '
        f'data-state="{transcript.state}">{"".join(items)}</div>'
        f'<p class="status" role="status">{status}</p>'
        f'<div class="alert" role="alert">{escape(transcript.alert)}</div>'
        "</div>"
    )


def _message(message: Message, number: int, locale: str) -> str:
    def t(key: str, **params: Any) -> str:
        return escape(locales.text(key, locale, **params))

    # Each message is an article named by its heading (您说 / 智能客服说), and its parts are
    # headings under it, so a screen reader can move message by message and part by part.
    heading = f"m{number}-heading"
    if message.role == "user":
        speaker = locales.text("portal.you_said", locale)
        speech = _speech(number, speaker, message.text, locale)
        return (
            f'<article class="message from-resident" aria-labelledby="{heading}" {speech}>'
            f'<h3 class="speaker" id="{heading}">{escape(speaker)}</h3>'
            f'<p class="question" dir="auto">{_mark_languages(escape(message.text), locale)}</p>'
            "</article>"
        )
    speaker = locales.text("portal.assistant_said", locale)
    parts = [f'<h3 class="speaker" id="{heading}">{escape(speaker)}</h3>']
    parts += [f'<p class="notice">{escape(notice)}</p>' for notice in message.notices]
    foreign_answer = not message.error and _other_language(locale, message.language)
    if foreign_answer:
        parts.append(f'<p class="notice">{t("portal.answer_untranslated")}</p>')
    if message.did_you_mean:
        # The correction is the gateway's Chinese, marked as untranslated on a foreign page;
        # what was typed is the resident's own words, marked only with its language.
        corrected = message.did_you_mean
        marked_correction = " data-untranslated" if untranslated(corrected, locale) else ""
        typed = (
            f'<bdi class="resident-words" dir="auto">'
            f"{_mark_languages(escape(message.asked), locale)}</bdi>"
        )
        parts.append(
            f'<p class="did-you-mean"{marked_correction}>'
            f"{_around('portal.did_you_mean', locale, question_html(corrected, locale))}</p>"
            '<ul class="chips"><li>'
            f'<button type="button" class="chip" data-ask="{escape(message.asked)}" '
            f'data-correct="false">{_around("portal.ask_as_typed", locale, typed)}</button>'
            "</li></ul>"
        )
    language = message.language or locale
    rendered = f"<p>{escape(message.text)}</p>" if message.error else _markdown(message.markdown)
    marked = " data-untranslated" if foreign_answer else ""
    parts.append(
        f'<div class="answer" dir="auto"{_lang_attr(locale, message.language)}{marked}>'
        f"{_mark_languages(rendered, language)}</div>"
    )
    if message.citations:
        links = "".join(
            f"<li>{_link(citation['url'], citation['title'], locale)}</li>"
            for citation in message.citations
        )
        parts.append(
            f'<h4 class="label">{t("portal.sources")}</h4><ol class="sources">{links}</ol>'
        )
    if message.suggestions:
        parts.append(
            f'<h4 class="label">{t("portal.related")}</h4>'
            f'<ul class="chips">{chips(message.suggestions, locale)}</ul>'
        )
    if not message.error:
        # data-unavailable: what the button says when neither the browser nor the gateway
        # has a voice for the answer's language (portal.js).
        parts.append(
            f'<button type="button" class="read-aloud" data-read="m{number}" '
            f'data-unavailable="{t("portal.read_unavailable")}">'
            f"{t('portal.read_answer')}</button>"
        )
    kind = " error" if message.error else ""
    lang = f' data-lang="{escape(language)}"' if message.language else ""
    speech = _speech(number, speaker, message.text, locale)
    return (
        f'<article class="message from-assistant{kind}" aria-labelledby="{heading}" '
        f"{speech}{lang}>{''.join(parts)}</article>"
    )


def _around(key: str, locale: str, question: str) -> str:
    """The page's string ``key`` with the HTML ``question`` in its ``{question}`` place."""
    slot = "\x00"
    return escape(locales.text(key, locale, question=slot)).replace(slot, question)


def _speech(number: int, speaker: str, text: str, locale: str) -> str:
    """What is announced once (``data-announce``) and read aloud (``data-speaker`` in the
    page's language, then ``data-text``): who speaks, then the words without Markdown."""
    announce = locales.text("portal.announce", locale, speaker=speaker, text=text)
    return (
        f'data-message="m{number}" data-speaker="{escape(speaker)}" data-text="{escape(text)}" '
        f'data-announce="{escape(announce)}"'
    )


def chips(questions: list[str], locale: str) -> str:
    """Buttons that ask a question when pressed (hot questions, category shortcuts)."""
    return "".join(
        f'<li><button type="button" class="chip" dir="auto" data-ask="{escape(question)}"'
        f"{' data-untranslated' if untranslated(question, locale) else ''}>"
        f"{question_html(question, locale)}</button></li>"
        for question in questions
    )


def _link(url: str, title: str, locale: str) -> str:
    """A link to another site: it opens a new window, and says so."""
    notice = escape(locales.text("portal.new_window", locale))
    marked = " data-untranslated" if untranslated(title, locale) else ""
    return (
        f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer"{marked}>'
        f"<bdi>{question_html(title, locale)}</bdi>"
        f'<span class="new-window">{notice}</span></a>'
    )


_HAN = re.compile(rf"[{_SCRIPTS[0][1]}]")
_KANA = re.compile(rf"[{_SCRIPTS[1][1]}]")


def untranslated(text: str, locale: str) -> bool:
    """Whether ``text`` is Chinese shown on a page in another language: a hot question, a
    suggestion or a source title the knowledge base has no translation of."""
    page = _primary(locale)
    if page == "zh" or not _HAN.search(text):
        return False
    return not (page == "ja" and _KANA.search(text))


def question_html(text: str, locale: str) -> str:
    """A question or title as HTML; Chinese on another language's page says, in the page's
    language, that it is not translated."""
    if not untranslated(text, locale):
        return _mark_languages(escape(text), locale)
    mark = escape(locales.text("portal.untranslated", locale))
    return f'<span lang="zh">{escape(text)}</span><span class="untranslated-mark">{mark}</span>'


def _other_language(locale: str, language: str) -> bool:
    return bool(language) and _primary(language) != _primary(locale)


@cache
def _parser() -> MarkdownIt:
    # Raw HTML in an answer is shown as text: back ends are not trusted to write markup.
    return MarkdownIt("commonmark", {"html": False}).disable("image")


def _markdown(markdown: str) -> str:
    parser = _parser()
    tokens = parser.parse(markdown)
    for token in tokens:
        for child in token.children or []:
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                if _is_web_url(href):
                    child.attrSet("target", "_blank")
                    child.attrSet("rel", "noopener noreferrer")
                    child.attrSet("class", "external")
    return parser.renderer.render(tokens, parser.options, {})


def _is_web_url(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def _lang_attr(locale: str, language: str) -> str:
    """``lang`` for an answer written in another language than the page."""
    if language and _primary(language) != _primary(locale):
        return f' lang="{escape(language)}"'
    return ""


def _primary(tag: str) -> str:
    return tag.split("-")[0].lower()


def _mark_languages(html: str, language: str) -> str:
    """Wrap runs of text in another script than ``language``'s in ``<span lang>``, so screen
    readers and read-aloud switch voice (a Chinese office name in an English answer)."""
    base = _primary(language)
    parts = _TAG_OR_TEXT.split(html)
    for index, part in enumerate(parts):
        if not part or part.startswith("<"):
            continue
        for script_language, pattern in _RUNS.items():
            if script_language == base or (script_language == "zh" and base == "ja"):
                continue
            part = pattern.sub(
                lambda run, code=script_language: f'<span lang="{code}">{run.group(0)}</span>',
                part,
            )
        parts[index] = part
    return "".join(parts)
