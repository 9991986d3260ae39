"""The portal's event handlers. Each talks to the gateway only through ``portal.client``, and
returns the transcript as HTML (``portal.render``) with the state Gradio keeps per resident."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from html import escape

import locales
from portal.client import GatewayClient, GatewayUnavailable
from portal.render import Message, State, Transcript, chips, question_html, render, untranslated


@dataclass
class Update:
    """What one step of answering changes on the page."""

    transcript: str
    messages: list[Message]
    session_id: str | None
    #: The answer residents can rate, once it is complete.
    message_id: str | None = None
    #: What the question box should hold: emptied on success, the question back on failure.
    question: str = ""


class Conversation:
    def __init__(self, client: GatewayClient, locale: str, hotline: str) -> None:
        self.client = client
        self.locale = locale
        self.hotline = hotline

    def show(
        self, messages: list[Message], state: State = "idle", partial: str = "", alert: str = ""
    ) -> str:
        return render(Transcript(messages, state, partial, alert), self.locale)

    async def ask(
        self,
        question: str,
        messages: list[Message],
        session_id: str | None,
        *,
        correct: bool = True,
        agent: str | None = None,
        resident: str | None = None,
    ) -> AsyncIterator[Update]:
        """Stream one answer: the question with 正在查找…, the answer as it arrives, then the
        complete answer, or an alert with the question kept in the box. ``resident``: the
        resident's address, for the gateway's per-address limits."""
        question = question.strip()
        messages = [*messages, Message("user", question)] if question else list(messages)
        yield Update(self.show(messages, state="searching"), messages, session_id)
        partial = ""
        try:
            async for event, data in self.client.stream(
                question,
                lang=self.locale,
                session_id=session_id,
                correct=correct,
                agent=agent,
                resident=resident,
            ):
                if event in ("delta", "replace"):
                    partial = partial + data["text"] if event == "delta" else data["text"]
                    shown = self.show(messages, state="streaming", partial=partial)
                    yield Update(shown, messages, session_id)
                elif event == "done":
                    messages = [*messages, Message.answer(data, asked=question)]
                    yield Update(
                        self.show(messages, state="done"),
                        messages,
                        data["session_id"],
                        data["message_id"],
                    )
                    return
                elif event == "error":
                    yield self._failed(messages, session_id, data["error"]["message"], question)
                    return
        except GatewayUnavailable as error:
            if error.status and error.status < 500:
                explanation = error.message  # the gateway's own, localized, message
            else:
                explanation = locales.text(
                    "error.backend_unavailable", self.locale, hotline=self.hotline
                )
            yield self._failed(messages, session_id, explanation, question)

    def _failed(
        self, messages: list[Message], session_id: str | None, explanation: str, question: str
    ) -> Update:
        if messages and messages[-1].role == "user":
            messages = [*messages, Message("assistant", explanation, error=True)]
        return Update(
            self.show(messages, state="done", alert=explanation),
            messages,
            session_id,
            question=question,
        )

    async def shortcuts(self) -> str:
        """Hot questions and category shortcuts, as chips; empty when the gateway is away."""
        try:
            hot = [item["question"] for item in await self.client.hot(self.locale)]
            categories = await self.client.categories(self.locale)
        except GatewayUnavailable:
            return ""

        def t(key: str) -> str:
            return locales.text(key, self.locale)

        category_chips = "".join(
            f'<li><button type="button" class="chip" data-ask="{escape(c["name"])}" '
            f'data-agent="{escape(c["id"])}"'
            f"{' data-untranslated' if untranslated(c['name'], self.locale) else ''}>"
            f"{question_html(c['name'], self.locale)}</button></li>"
            for c in categories
        )
        return (
            '<section class="shortcuts" aria-labelledby="hot-heading">'
            f'<h2 id="hot-heading" class="section-heading">{escape(t("portal.hot_questions"))}</h2>'
            f'<ul class="chips hot">{chips(hot, self.locale)}</ul>'
            f'<h2 id="categories-heading" class="section-heading not-in-elder-mode">'
            f"{escape(t('portal.categories'))}</h2>"
            f'<ul class="chips categories not-in-elder-mode" aria-labelledby="categories-heading">'
            f"{category_chips}</ul>"
            "</section>"
        )

    async def rate(
        self, message_id: str | None, helpful: bool, comment: str, resident: str | None = None
    ) -> str:
        if not message_id:
            return ""
        try:
            return await self.client.feedback(
                message_id,
                helpful,
                lang=self.locale,
                comment=comment.strip() or None,
                resident=resident,
            )
        except GatewayUnavailable as error:
            return error.message
