"""``/api/v1/admin``: operators' endpoints, behind a bearer token (docs/admin.md).

The token is read from the environment variable ``[admin] token_env`` names (by default
``ASSISTANT_ADMIN_TOKEN``); while it is unset every admin request is refused (403). A wrong
token gets 401, and a client address that keeps sending wrong tokens is rate limited
(``[limits] admin_failures_per_ip``). Every route of this router has that guard.

What operators do here: read the questions nobody answered (with counts, first and last seen,
and grouped by meaning: gateway/knowledge/grouping.py) and mark them resolved or linked to a
knowledge-base entry; read residents' feedback; export both as CSV; see hot questions from
traffic beside the curated list; see what each file of the knowledge base gave and its
problems, and reload it without a restart; read safety events. The admin page
(gateway/api/admin_page.py) is built on these endpoints alone.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.convertors import Convertor, register_url_convertor

from gateway.api import security
from gateway.api.schemas import error_responses
from gateway.chat import ChatService
from gateway.errors import GatewayError
from gateway.knowledge import grouping
from gateway.knowledge.embedding import EmbeddingError
from gateway.knowledge.entries import KnowledgeBaseError
from gateway.services import embedder_for
from gateway.state.store import NotFound

#: Rows in one CSV export.
CSV_ROWS = 100_000
#: The largest integer the database stores (SQLite's and PostgreSQL's 64-bit integers): a
#: larger id or offset is refused (422) rather than overflowing in the driver (a 500).
LARGEST_ROW = 2**63 - 1


class _RowNumber(Convertor[str]):
    """A path segment that is an integer, of any size and sign (kept as text: the route's own
    bounds then refuse one too large with a 422): ``/unanswered/groups`` is not a question's
    id, so a POST to it is a method the path does not take (405), not a question to mark."""

    regex = "-?[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return str(value)


register_url_convertor("row", _RowNumber())

#: How exports are documented: a CSV file, not JSON.
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


async def require_admin(request: Request) -> None:
    variable = request.app.state.settings.admin.token_env
    expected = os.environ.get(variable, "") if variable else ""
    if not expected:
        raise GatewayError("admin_disabled")
    if not security.bearer_matches(request, expected):
        request.app.state.chat.safety.audit.record(
            "admin_refused", stage="admin", rule=request.url.path
        )
        address = security.client_address(request) or "unknown"
        await security.limit(request, "admin_failures_per_ip", address)
        raise GatewayError("unauthorized")


router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=error_responses(401, 403),
)


def _chat(request: Request) -> ChatService:
    return request.app.state.chat


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _plain(record: Any) -> dict[str, Any]:
    return {key: _iso(value) for key, value in asdict(record).items()}


# -- unanswered questions ------------------------------------------------------------------

Status = Literal["open", "resolved", "linked"]


@router.get("/unanswered", summary="Questions nobody answered, with counts")
async def unanswered(
    request: Request,
    status: Status | None = None,
    order: Literal["count", "last_seen"] = "count",
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=LARGEST_ROW),
) -> dict[str, Any]:
    """Most asked first (or most recent first with ``order=last_seen``). Each: ``id``,
    ``question`` (masked), ``language``, ``reason`` (``not_found``, ``backend_failed``),
    ``count``, ``first_seen``, ``last_seen``, ``status``, ``entry_id``, ``resolved_at``."""
    store = _chat(request).store
    items = await store.unanswered(limit, offset, status, order)
    return {
        "total": await store.count_unanswered(status),
        "items": [_plain(item) for item in items],
    }


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
    #: For ``linked``: the knowledge-base entry that answers the question.
    entry_id: str = Field("", max_length=128)


@router.post("/unanswered/{question_id:row}", summary="Mark a question resolved, linked or open")
async def mark_unanswered(
    change: StatusChange, request: Request, question_id: int = Path(ge=1, le=LARGEST_ROW)
) -> Any:
    """``linked`` needs the ``entry_id`` of an entry of the knowledge base in use. A question
    marked resolved or linked that is asked again without an answer is open again."""
    service = _chat(request)
    entry_id = change.entry_id.strip()
    if change.status == "linked":
        knowledge = await service.services.knowledge()
        if entry_id not in knowledge.by_id:
            raise GatewayError("invalid_request", detail=f"entry_id: no entry {entry_id!r}")
    try:
        updated = await service.store.set_unanswered_status(question_id, change.status, entry_id)
    except NotFound:
        raise GatewayError("not_found") from None
    return _plain(updated)


async def _grouped(request: Request, status: str | None) -> tuple[grouping.Grouping, str]:
    """The unanswered questions of ``status`` in groups, and why not by meaning ("" when they
    are: ``no_embedder``, ``embedder_failed``)."""
    service = _chat(request)
    rows = await service.store.unanswered(CSV_ROWS, 0, status)
    config = service.settings.admin
    embedder = embedder_for(service.settings.knowledge)
    why = "" if embedder else "no_embedder"
    try:
        grouped = await anyio.to_thread.run_sync(
            grouping.group, rows, embedder, config.group_similarity, config.group_questions
        )
    except EmbeddingError:
        grouped, why = grouping.group(rows, None, config.group_similarity), "embedder_failed"
    return grouped, why


def _group(group: grouping.Group) -> dict[str, Any]:
    members = group.members
    statuses = {member.status for member in members}
    return {
        **_plain(group.representative),
        "count": group.count,
        "languages": sorted({member.language for member in members if member.language}),
        "first_seen": _iso(min(member.first_seen for member in members)),
        "last_seen": _iso(max(member.last_seen for member in members)),
        "status": statuses.pop() if len(statuses) == 1 else "mixed",
        "members": [_plain(member) for member in members],
    }


@router.get("/unanswered/groups", summary="Unanswered questions grouped by meaning")
async def unanswered_groups(
    request: Request,
    status: Status | None = None,
    limit: int = Query(25, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=LARGEST_ROW),
) -> dict[str, Any]:
    """One item per group of questions alike in meaning, most asked group first: its most
    asked question (``id``, ``question``, ``reason`` …), ``count`` (times any was asked),
    ``languages``, ``first_seen``, ``last_seen``, ``status`` (``mixed`` when its members
    differ) and ``members`` (the questions, most asked first). ``method``: ``embedding``, or
    ``text`` (identical text only) with ``fallback`` saying why."""
    grouped, why = await _grouped(request, status)
    return {
        "total": len(grouped.groups),
        "questions": sum(len(group.members) for group in grouped.groups),
        "method": grouped.method,
        "fallback": why,
        "threshold": grouped.threshold,
        "by_meaning": grouped.by_meaning,
        "items": [_group(group) for group in grouped.groups[offset : offset + limit]],
    }


@router.get(
    "/unanswered.csv",
    summary="Unanswered questions as CSV",
    response_class=Response,
    responses=CSV_RESPONSE,
)
async def unanswered_csv(request: Request, status: Status | None = None) -> Response:
    """One row per question, as stored, ordered by group; ``group`` numbers the groups (as
    ``/unanswered/groups`` orders them) and ``group_question`` is the group's representative,
    so a spreadsheet can filter or sum by group."""
    grouped, _ = await _grouped(request, status)
    rows = (
        {**_plain(member), "group": number, "group_question": group.representative.question}
        for number, group in enumerate(grouped.groups, 1)
        for member in group.members
    )
    columns = ["id", "question", "language", "reason", "count", "first_seen", "last_seen",
               "status", "entry_id", "resolved_at", "group", "group_question"]  # fmt: skip
    return _csv("unanswered.csv", columns, rows)


# -- feedback -------------------------------------------------------------------------------


@router.get("/feedback", summary="Residents' ratings of answers")
async def feedback(
    request: Request,
    helpful: bool | None = None,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=LARGEST_ROW),
) -> dict[str, Any]:
    """Newest first, with totals and the answers most often rated not helpful."""
    store = _chat(request).store
    items = await store.feedback(limit, offset, helpful)
    summary = await store.feedback_summary()
    return {
        "total": await store.count_feedback(helpful),
        "summary": asdict(summary),
        "items": [_plain(item) for item in items],
    }


@router.get(
    "/feedback.csv", summary="Feedback as CSV", response_class=Response, responses=CSV_RESPONSE
)
async def feedback_csv(request: Request, helpful: bool | None = None) -> Response:
    rows = await _chat(request).store.feedback(CSV_ROWS, 0, helpful)
    columns = ["id", "created_at", "helpful", "question", "comment", "backend", "entry_id",
               "message_id"]  # fmt: skip
    return _csv("feedback.csv", columns, (_plain(row) for row in rows))


def _csv(filename: str, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> Response:
    """UTF-8 with a byte-order mark, so spreadsheet programs read Chinese correctly; a cell
    that a spreadsheet would run as a formula (=, +, -, @) is quoted with an apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# -- hot questions and the knowledge base ----------------------------------------------------


@router.get("/hot", summary="Hot questions: from traffic, curated, and as residents see them")
async def hot(request: Request) -> dict[str, Any]:
    """``traffic``: entries by answers given lately (counts halve every ``[hot]
    half_life_hours``); ``curated``: the knowledge base's list; ``shown``: the merged list
    ``GET /api/v1/hot`` serves."""
    service = _chat(request)
    knowledge = await service.services.knowledge()
    traffic = await service.hot.traffic(fresh=True)
    shown = await service.hot.merged(knowledge)
    counts = dict(traffic)

    def item(entry_id: str) -> dict[str, Any]:
        entry = knowledge.by_id.get(entry_id)
        return {
            "id": entry_id,
            "question": entry.question if entry else "",
            "category": entry.category if entry else "",
            "count": round(counts.get(entry_id, 0.0), 2),
        }

    return {
        "traffic": [item(entry_id) for entry_id, _ in traffic],
        "curated": [item(entry.id) for entry in knowledge.hot],
        "shown": [item(entry.id) for entry in shown],
        "settings": service.settings.hot.model_dump(),
    }


@router.get("/knowledge", summary="The knowledge base in use")
async def knowledge(request: Request) -> dict[str, Any]:
    services = _chat(request).services
    base = await services.knowledge()
    return {
        "entries": len(base.entries),
        "categories": len(base.categories),
        "paths": list(services.knowledge_paths),
        "generation": services.generation,
    }


@router.get("/sources", summary="The knowledge base's files: what each gave, its problems")
async def sources(request: Request) -> dict[str, Any]:
    """The files of the knowledge base in use, as ``gateway kb sources`` lists them: ``file``,
    ``kind``, ``entries``, ``passages``, ``problems`` (each naming the file and row) and
    ``read_at``; ``totals``; ``built_at`` (when the files were read) and ``last_reload``
    (``at``, the files it found ``changed``, and its ``problems`` when it was refused)."""
    services = _chat(request).services
    base = await services.knowledge()
    last = services.last_reload
    return {
        "built_at": _iso(base.read_at),
        "generation": services.generation,
        "totals": base.source_totals(),
        "files": [_plain(report) for report in base.sources],
        "last_reload": _plain(last) if last else None,
    }


@router.post("/knowledge/reload", summary="Read the knowledge base again, without a restart")
async def reload_knowledge(request: Request) -> dict[str, Any]:
    """Builds the new index beside the old one and swaps it in; questions being answered
    meanwhile finish with the old one. With ``[redis] url`` set every other worker follows
    within ``[knowledge] reload_check`` seconds. A base with problems keeps the old one in
    place and answers 422 with the problems."""
    services = _chat(request).services
    try:
        await services.reload()
    except KnowledgeBaseError as exc:
        raise GatewayError("invalid_request", detail=str(exc)[:2000]) from exc
    _chat(request).safety.audit.record("knowledge_reloaded", stage="admin")
    return await knowledge(request)


@router.get("/audit", summary="Safety events, newest first")
async def audit(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    kind: str | None = Query(None, max_length=32, pattern=r"^[a-z_]+$"),
) -> dict[str, Any]:
    """What was blocked, masked, flagged or refused (docs/safety.md): no personal data."""
    events = await request.app.state.chat.safety.audit.recent(limit, kind)
    return {
        "events": [{**event, "created_at": event["created_at"].isoformat()} for event in events]
    }


@router.get("/safety", summary="The lexicon in use and the safety settings")
async def safety_status(request: Request) -> dict[str, Any]:
    return request.app.state.chat.safety.status()


@router.post("/lexicon/reload", summary="Read the lexicon files again")
async def reload_lexicon(request: Request) -> dict[str, Any]:
    """Builds the new lexicon beside the old one and swaps it in: questions being answered
    meanwhile are reviewed with the old one, none is dropped. A file that cannot be read
    leaves the old lexicon in place and answers 422 saying why."""
    from gateway.config import ConfigError

    try:
        return await request.app.state.chat.safety.reload()
    except ConfigError as exc:
        raise GatewayError("invalid_request", detail=str(exc)) from exc
