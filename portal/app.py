"""The portal: a Gradio page per UI language, talking to the gateway through its client.

Gradio builds a Blocks app once, so per-request localization is done with one page per locale
(Gradio's multipage routes) and ``portal.pages`` choosing and labelling the page for each
request. The page is built from Gradio's plain parts (textbox, buttons, HTML) so that every
control is named in the page's language; the transcript is our own HTML (``portal.render``)
with the semantics screen readers need, which Gradio's Chatbot does not give.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import gradio as gr
from fastapi import FastAPI

import accessibility
import locales
from gateway.api import security
from gateway.app import create_app as create_gateway_app
from gateway.config import Settings
from portal.client import GatewayClient
from portal.conversation import Conversation, Update
from portal.embed import mount_loader
from portal.guard import PortalGuard
from portal.layout import Page
from portal.pages import LocalizedPages, page_path
from portal.render import Message
from portal.voice import controls as voice_controls
from portal.voice import mount_voice
from portal.voice import support as voice_support
from portal.widget import WidgetOptions

#: Chips inside an HTML block (suggestions, did-you-mean, hot questions, categories) ask their
#: question through Gradio's ``trigger``; the handler reads the chip's data.
CHIP_SCRIPT = """
element.addEventListener('click', (event) => {
  const chip = event.target.closest('button[data-ask]');
  if (!chip || !element.contains(chip)) return;
  trigger('click', {
    ask: chip.dataset.ask,
    correct: chip.dataset.correct !== 'false',
    agent: chip.dataset.agent || null,
  });
});
"""


def _focus(selector: str) -> str:
    """Client-side code that moves focus once Gradio has drawn what an event made visible."""
    return (
        "() => { setTimeout(() => { const target = document.querySelector("
        f"{selector!r}); if (target) target.focus(); }}, 60); }}"
    )


QUIET: dict[str, Any] = {"show_progress": "hidden", "api_visibility": "private"}
INSTANT: dict[str, Any] = {**QUIET, "queue": False}


def build_page(blocks: gr.Blocks, client: GatewayClient, settings: Settings, locale: str) -> None:
    """The components and events of one locale's page, inside the current Blocks route; it is
    also the widget's, when asked for as the widget (``portal.widget``)."""
    hotline = settings.service.hotline
    conversation = Conversation(client, locale, hotline)
    page = Page(locale, hotline)
    t = page.t

    site = gr.HTML(page.header(), elem_id="site", js_on_load=None)
    messages = gr.State([])
    session = gr.State(None)
    #: Where typed questions go: the widget's ``agent`` parameter.
    agent = gr.State(None)
    answer_id = gr.State(None)
    asked = gr.State("")
    restore = gr.State("")
    transcript = gr.HTML(conversation.show([]), elem_id="conversation", js_on_load=CHIP_SCRIPT)
    with gr.Column(elem_id="feedback", visible=False) as feedback:
        gr.HTML(page.feedback_prompt(), js_on_load=None)
        comment = gr.Textbox(
            label=t("portal.feedback_comment"),
            lines=1,
            max_lines=4,
            elem_classes="not-in-elder-mode",
            rtl=locales.info(locale).direction == "rtl",
        )
        with gr.Row():
            helpful = gr.Button(t("portal.helpful"), elem_id="helpful")
            unhelpful = gr.Button(t("portal.not_helpful"), elem_id="not-helpful")
    feedback_status = gr.HTML(page.feedback_status(), js_on_load=None)
    with gr.Row(elem_id="ask-row", equal_height=False):
        question = gr.Textbox(
            label=t("portal.input_label"),
            placeholder=t("portal.input_placeholder"),
            lines=1,
            max_lines=6,
            elem_id="question",
            rtl=locales.info(locale).direction == "rtl",
            scale=5,
            min_width=200,
        )
        send = gr.Button(t("portal.send"), variant="primary", elem_id="send", scale=1)
    voice = gr.HTML("", elem_id="voice", js_on_load=None)
    gr.HTML(page.input_notes(), js_on_load=None)
    clear = gr.Button(t("portal.clear"), elem_id="clear", size="md")
    with gr.Column(elem_id="clear-confirm", visible=False) as confirm:
        gr.HTML(page.clear_question(), js_on_load=None)
        with gr.Row():
            clear_yes = gr.Button(t("portal.clear_yes"), elem_id="clear-yes", variant="stop")
            clear_no = gr.Button(t("portal.clear_no"), elem_id="clear-no")
    shortcuts = gr.HTML("", elem_id="shortcuts", js_on_load=CHIP_SCRIPT)
    gr.HTML(page.footer(), js_on_load=None)

    answer_outputs = [transcript, messages, session, answer_id, restore, feedback, feedback_status]

    def outputs(update: Update) -> tuple[Any, ...]:
        complete = update.message_id is not None
        return (
            update.transcript,
            update.messages,
            update.session_id,
            update.message_id,
            update.question,
            gr.update(visible=complete),
            page.feedback_status(),
        )

    async def ask_typed(
        text: str,
        history: list[Message],
        session_id: str | None,
        agent_: str | None,
        request: gr.Request,
    ) -> AsyncIterator[tuple[Any, ...]]:
        async for update in conversation.ask(
            text, history, session_id, agent=agent_, resident=resident_address(request)
        ):
            yield outputs(update)

    async def ask_chip(
        history: list[Message], session_id: str | None, event: gr.EventData, request: gr.Request
    ) -> AsyncIterator[tuple[Any, ...]]:
        data = event._data or {}
        async for update in conversation.ask(
            str(data.get("ask") or ""),
            history,
            session_id,
            correct=bool(data.get("correct", True)),
            agent=data.get("agent") or None,
            resident=resident_address(request),
        ):
            yield outputs(update)

    def take(text: str) -> tuple[str, str]:
        return "", text

    def give_back(text: str) -> Any:
        # Only after a failure: the question goes back into the box so it is not lost.
        return text if text else gr.skip()

    for trigger in (question.submit, send.click):
        trigger(take, [question], [question, asked], **INSTANT).then(
            ask_typed, [asked, messages, session, agent], answer_outputs, **QUIET
        ).then(give_back, [restore], [question], **INSTANT)
    for chips in (transcript, shortcuts):
        chips.click(ask_chip, [messages, session], answer_outputs, **QUIET).then(
            give_back, [restore], [question], **INSTANT
        )

    async def rate(
        message_id: str | None, note: str, helpful_: bool, request: gr.Request
    ) -> tuple[Any, ...]:
        thanks = await conversation.rate(message_id, helpful_, note, resident_address(request))
        return gr.update(visible=False), "", page.feedback_status(thanks)

    async def rate_helpful(
        message_id: str | None, note: str, request: gr.Request
    ) -> tuple[Any, ...]:
        return await rate(message_id, note, True, request)

    async def rate_unhelpful(
        message_id: str | None, note: str, request: gr.Request
    ) -> tuple[Any, ...]:
        return await rate(message_id, note, False, request)

    rated = [feedback, comment, feedback_status]
    helpful.click(rate_helpful, [answer_id, comment], rated, **QUIET).then(
        None, js=_focus("#question textarea"), **QUIET
    )
    unhelpful.click(rate_unhelpful, [answer_id, comment], rated, **QUIET).then(
        None, js=_focus("#question textarea"), **QUIET
    )

    clear.click(lambda: gr.update(visible=True), None, [confirm], **INSTANT).then(
        None, js=_focus("#clear-no"), **QUIET
    )
    clear_no.click(lambda: gr.update(visible=False), None, [confirm], **INSTANT).then(
        None, js=_focus("#clear"), **QUIET
    )

    def cleared() -> tuple[Any, ...]:
        return (
            conversation.show([]),
            [],
            None,
            None,
            gr.update(visible=False),
            gr.update(visible=False),
            page.feedback_status(t("portal.cleared")),
        )

    clear_yes.click(
        cleared,
        None,
        [transcript, messages, session, answer_id, feedback, confirm, feedback_status],
        **INSTANT,
    ).then(None, js=_focus("#question textarea"), **QUIET)

    async def start(request: gr.Request) -> tuple[Any, str | None, str, str]:
        # The page's URL: the widget's title and agent (nothing for the portal).
        widget = WidgetOptions.from_query(dict(request.query_params))
        heading = page.header(widget.title) if widget.title else gr.skip()
        able = await voice_support(client, locale)
        return heading, widget.agent, await conversation.shortcuts(), voice_controls(page, able)

    blocks.load(start, None, [site, agent, shortcuts, voice], **QUIET)


def build_blocks(client: GatewayClient, settings: Settings) -> gr.Blocks:
    """One Blocks app with a page per locale: the default at ``/``, the others at ``/<code>``."""
    default = _default_locale(settings)
    with gr.Blocks(title=locales.text("portal.title", default), analytics_enabled=False) as blocks:
        build_page(blocks, client, settings, default)
    for code in locales.available():
        if code == default:
            continue
        with blocks.route(locales.info(code).name, page_path(code, default), show_in_navbar=False):
            build_page(blocks, client, settings, code)
    return blocks


def resident_address(request: gr.Request | None) -> str | None:
    """The address a resident's event came from. The portal's app resolves a trusted reverse
    proxy's ``X-Forwarded-For`` before Gradio sees the request (``security.install``), so this
    is the resident's, not nginx's."""
    client = getattr(request, "client", None) if request is not None else None
    return getattr(client, "host", None) or None


def _default_locale(settings: Settings) -> str:
    return locales.match(settings.service.default_locale) or locales.DEFAULT_LOCALE


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
    accessibility.mount_assets(app)
    mount_loader(app, settings, default=_default_locale(settings))
    mount_voice(app, client, settings)
    # A configured public address is Gradio's root; without one Gradio reads the request's.
    root = {"root_path": settings.portal.public_url} if settings.portal.public_url else {}
    app = gr.mount_gradio_app(app, blocks, path="/", **accessibility.gradio_options(), **root)
    app.add_middleware(PortalGuard, settings=settings)
    app.add_middleware(
        LocalizedPages,
        default=_default_locale(settings),
        codes=locales.available(),
        head=accessibility.head,
    )
    # Outermost as well, so that what LocalizedPages and PortalGuard answer themselves (the
    # /widget redirect, closed routes) carries the headers too.
    app.add_middleware(security.SecurityHeaders, config=settings.security)
    return app
