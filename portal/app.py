"""The portal: a Gradio chat page for residents, talking to the gateway through its client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import gradio as gr
from fastapi import FastAPI

import locales
from accessibility import gradio_options
from gateway.api import security
from gateway.app import create_app as create_gateway_app
from gateway.config import Settings
from portal.client import GatewayClient, GatewayUnavailable

History = list[dict[str, Any]]


def format_answer(reply: dict[str, Any], locale: str) -> str:
    """The answer's Markdown with its notices above and its sources and related questions below."""
    parts = [f"> {notice['message']}" for notice in reply.get("notices", [])]
    parts.append(reply["answer"])
    citations = [c for c in reply.get("citations", []) if c.get("url")]
    if citations:
        lines = "\n".join(
            f"{number}. [{c['title']}]({c['url']})" for number, c in enumerate(citations, 1)
        )
        parts.append(f"**{locales.text('portal.sources', locale)}**\n\n{lines}")
    if reply.get("suggestions"):
        lines = "\n".join(f"- {question}" for question in reply["suggestions"])
        parts.append(f"**{locales.text('portal.related', locale)}**\n\n{lines}")
    return "\n\n".join(parts)


class Conversation:
    """The portal's event handlers; each talks to the gateway only through ``client``."""

    def __init__(self, client: GatewayClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def locale_for(self, request: gr.Request) -> str:
        return locales.negotiate(
            request.query_params.get("lang"),
            request.headers.get("accept-language"),
            self.settings.service.default_locale,
        )

    async def ask(
        self, message: str, history: History, session_id: str | None, locale: str
    ) -> AsyncIterator[tuple[str, History, str | None, str | None]]:
        """Yields (text box, transcript, session id, id of the last answer)."""
        history = [*history, {"role": "user", "content": message}]
        searching = {"role": "assistant", "content": locales.text("portal.searching", locale)}
        yield "", [*history, searching], session_id, None
        text = ""
        try:
            async for event, data in self.client.stream(
                message, lang=locale, session_id=session_id
            ):
                if event in ("delta", "replace"):
                    text = text + data["text"] if event == "delta" else data["text"]
                    yield "", [*history, {"role": "assistant", "content": text}], session_id, None
                elif event == "done":
                    answer = {"role": "assistant", "content": format_answer(data, locale)}
                    yield "", [*history, answer], data["session_id"], data["message_id"]
                    return
                elif event == "error":
                    problem = {"role": "assistant", "content": data["error"]["message"]}
                    # The question goes back into the text box so it is not lost.
                    yield message, [*history, problem], session_id, None
                    return
        except GatewayUnavailable as error:
            if error.status and error.status < 500:
                explanation = error.message
            else:
                explanation = locales.text(
                    "error.backend_unavailable", locale, hotline=self.settings.service.hotline
                )
            yield (
                message,
                [*history, {"role": "assistant", "content": explanation}],
                session_id,
                None,
            )

    async def hot_questions(self, locale: str) -> list[str]:
        try:
            return [item["question"] for item in await self.client.hot(locale)]
        except GatewayUnavailable:
            return []

    async def feedback(self, message_id: str | None, helpful: bool, locale: str) -> str:
        if not message_id:
            return ""
        try:
            return await self.client.feedback(message_id, helpful, lang=locale)
        except GatewayUnavailable as error:
            return error.message


def build_blocks(client: GatewayClient, settings: Settings) -> gr.Blocks:
    conversation = Conversation(client, settings)
    locale = settings.service.default_locale
    hotline = settings.service.hotline

    def t(key: str, **params: Any) -> str:
        return locales.text(key, locale, **params)

    with gr.Blocks(title=t("portal.title"), analytics_enabled=False) as blocks:
        locale_state = gr.State(locale)
        session_state = gr.State(None)
        last_answer = gr.State(None)
        gr.Markdown(f"# {t('portal.heading')}\n\n{t('portal.intro')}")
        chatbot = gr.Chatbot(label=t("portal.transcript"), height=480, elem_id="transcript")
        textbox = gr.Textbox(
            label=t("portal.input_label"),
            placeholder=t("portal.input_placeholder"),
            submit_btn=t("portal.send"),
            lines=2,
            max_lines=6,
            elem_id="question",
        )
        with gr.Row():
            gr.Markdown(t("portal.feedback_prompt"))
            helpful = gr.Button(t("portal.helpful"), size="sm")
            not_helpful = gr.Button(t("portal.not_helpful"), size="sm")
        feedback_status = gr.Markdown()
        gr.Markdown(f"## {t('portal.hot_questions')}")

        hot_state = gr.State([])

        @gr.render(inputs=[hot_state])
        def hot_questions(questions: list[str]) -> None:
            for question in questions:
                button = gr.Button(question, size="sm", variant="secondary")
                button.click(
                    conversation.ask,
                    inputs=[button, chatbot, session_state, locale_state],
                    outputs=[textbox, chatbot, session_state, last_answer],
                )

        gr.Markdown(t("portal.hotline", hotline=hotline))

        blocks.load(conversation.locale_for, inputs=None, outputs=[locale_state]).then(
            conversation.hot_questions, inputs=[locale_state], outputs=[hot_state]
        )
        textbox.submit(
            conversation.ask,
            inputs=[textbox, chatbot, session_state, locale_state],
            outputs=[textbox, chatbot, session_state, last_answer],
        )

        async def rate_helpful(message_id: str | None, current_locale: str) -> str:
            return await conversation.feedback(message_id, True, current_locale)

        async def rate_unhelpful(message_id: str | None, current_locale: str) -> str:
            return await conversation.feedback(message_id, False, current_locale)

        helpful.click(rate_helpful, [last_answer, locale_state], [feedback_status])
        not_helpful.click(rate_unhelpful, [last_answer, locale_state], [feedback_status])
    return blocks


def create_app(settings: Settings, gateway_url: str = "", self_url: str = "") -> FastAPI:
    """The portal mounted at ``/``. Without ``gateway_url`` the gateway runs in the same app
    and the portal reaches it over loopback at ``self_url``: httpx's in-process ASGI transport
    would hold back a streamed answer until it is complete."""
    if gateway_url:
        app = FastAPI(title="Government services assistant portal")
        security.install(app, settings)  # the co-hosted gateway installs them itself
        client = GatewayClient(gateway_url)
    else:
        app = create_gateway_app(settings)
        client = GatewayClient(self_url)
    blocks = build_blocks(client, settings)
    return gr.mount_gradio_app(app, blocks, path="/", footer_links=[], **gradio_options())
