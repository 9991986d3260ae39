"""/api/v1: chat, feedback, hot questions, categories."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

import locales
from gateway.api.errors import MethodNotAllowed, allowed_methods
from gateway.api.health import backend_statuses
from gateway.api.locale import request_locale
from gateway.api.replies import response, sse
from gateway.api.schemas import (
    AnalysisOut,
    AnalyzeRequest,
    Backends,
    Categories,
    CategoryOut,
    ChatRequest,
    ChatResponse,
    FeedbackRequest,
    FeedbackResponse,
    HotQuestion,
    HotQuestions,
    error_responses,
)
from gateway.api.security import limit
from gateway.chat import ChatService
from gateway.errors import GatewayError

router = APIRouter(prefix="/api/v1", responses=error_responses())


def _chat(request: Request) -> ChatService:
    return request.app.state.chat


@router.post(
    "/chat",
    response_model=ChatResponse,
    summary="Ask a question",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat(body: ChatRequest, request: Request) -> Any:
    """Answer a question. With ``stream: true`` the reply is Server-Sent Events: ``delta``
    (``{text}``, append), ``replace`` (``{text}``, replaces what came before), ``citations``,
    ``done`` (the whole response, as without streaming) or ``error``."""
    locale = request_locale(request, body.lang)
    service = _chat(request)
    await limit(request, "per_ip")
    if body.session_id:
        await limit(request, "per_session", body.session_id)
    prepared = service.prepare(
        body.message,
        locale,
        session_id=body.session_id,
        agent=body.agent,
        correct=body.correct,
    )
    if not body.stream:
        return response(await service.answer(prepared))
    return StreamingResponse(
        sse(service.stream(prepared), locale, service.hotline),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/feedback", response_model=FeedbackResponse, summary="Rate an answer")
async def feedback(body: FeedbackRequest, request: Request) -> FeedbackResponse:
    locale = request_locale(request, body.lang)
    await limit(request, "feedback_per_ip")
    await _chat(request).feedback(body.message_id, body.helpful, body.comment)
    return FeedbackResponse(message=locales.text("feedback.thanks", locale))


@router.post("/analyze", response_model=AnalysisOut, summary="See how a question is understood")
async def analyze(body: AnalyzeRequest, request: Request) -> AnalysisOut:
    """Run the understanding pipeline alone (no back end is asked): the detected language,
    the normalized and corrected text, each correction and each stage's step. For operators
    who want to see why a question was understood the way it was."""
    locale = request_locale(request, body.lang)
    analysis = _chat(request).pipeline.run(body.text, locale, correct=body.correct)
    return AnalysisOut.model_validate(analysis.to_dict())


@router.get("/hot", response_model=HotQuestions, summary="Hot questions")
async def hot(request: Request, lang: str | None = None) -> HotQuestions:
    locale = request_locale(request, lang)
    found = await _chat(request).hot_questions(locale)
    return HotQuestions(
        questions=[HotQuestion(id=q.id, question=q.question, category=q.category) for q in found]
    )


@router.get("/categories", response_model=Categories, summary="Service categories")
async def categories(request: Request, lang: str | None = None) -> Categories:
    locale = request_locale(request, lang)
    pairs = await _chat(request).categories(locale)
    return Categories(categories=[CategoryOut(id=id_, name=name) for id_, name in pairs])


@router.get("/backends", response_model=Backends, summary="Back ends: health, breaker, load")
async def backends(request: Request) -> Backends:
    """Every configured back end: its own health check, its circuit breaker (``closed``,
    ``open`` while it is skipped, ``half_open`` while one question probes it), the questions
    it is answering now, its limits and the routes that use it."""
    return Backends(backends=await backend_statuses(_chat(request)))


@router.api_route(
    "/{path:path}",
    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"],
    include_in_schema=False,
)
async def unknown(request: Request) -> None:
    # Without this catch-all a co-hosted portal would answer unknown API paths with a web page.
    # It also takes a known address asked with another method (it matches every method): that
    # is a 405 with the methods the address takes, whichever router serves it.
    allowed = allowed_methods(request)
    if allowed:
        raise MethodNotAllowed(allowed)
    raise GatewayError("not_found")
