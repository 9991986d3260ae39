"""The audit log of safety events: what was blocked, masked, flagged or refused, and why.

Each event is a line on the ``gateway.audit`` logger (JSON) and a row in the store's
``safety_events`` table, and the latest are kept in memory for ``GET /api/v1/admin/audit``.
An event holds no personal data: the lexicon term or rule that fired, its category and action,
the back end, a hash of the session id, and — for answers only, which a back end wrote — a
short excerpt around the term with personal numbers masked. Questions are never quoted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from collections import deque
from typing import Any

from gateway import metrics
from gateway.safety import pii
from gateway.state.store import Store

log = logging.getLogger("gateway.audit")

#: Characters of an answer kept on each side of a flagged term.
EXCERPT_CHARS = 20


def session_hash(session_id: str) -> str:
    """Enough to tell events of one conversation apart, not to find the conversation."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:12] if session_id else ""


def excerpt(text: str, start: int, end: int) -> str:
    """The words around ``text[start:end]``, personal numbers masked. The masking looks twice
    as far as the excerpt on each side, so no number is cut in half and left readable."""
    before = pii.mask(text[max(0, start - 2 * EXCERPT_CHARS) : start]).text[-EXCERPT_CHARS:]
    after = pii.mask(text[end : end + 2 * EXCERPT_CHARS]).text[:EXCERPT_CHARS]
    return before + text[start:end] + after


class AuditLog:
    def __init__(self, store: Store | None = None, memory: int = 1000) -> None:
        self.store = store
        self._recent: deque[dict[str, Any]] = deque(maxlen=memory or None)
        self._memory = memory
        self._writes: set[asyncio.Task[None]] = set()

    def record(
        self,
        kind: str,
        *,
        stage: str = "",
        action: str = "",
        category: str = "",
        rule: str = "",
        excerpt: str = "",
        session_id: str = "",
        backend: str = "",
    ) -> dict[str, Any]:
        event = {
            "created_at": dt.datetime.now(dt.UTC),
            "kind": kind,
            "stage": stage,
            "action": action,
            "category": category,
            "rule": rule[:128],
            "excerpt": excerpt,
            "session": session_hash(session_id),
            "backend": backend,
        }
        log.info(
            json.dumps({**event, "created_at": event["created_at"].isoformat()}, ensure_ascii=False)
        )
        metrics.SAFETY_EVENTS.labels(kind).inc()
        if self._memory:
            self._recent.append(event)
        if self.store is not None:
            try:
                task = asyncio.get_running_loop().create_task(self._write(event))
            except RuntimeError:  # no event loop: the log line is the record
                return event
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)
        return event

    async def _write(self, event: dict[str, Any]) -> None:
        assert self.store is not None
        try:
            await self.store.record_safety_event(event)
        except Exception:
            log.exception("could not store a safety event")

    async def flush(self) -> None:
        """Wait for events still being written."""
        while self._writes:
            await asyncio.gather(*list(self._writes))

    async def recent(self, limit: int = 100, kind: str | None = None) -> list[dict[str, Any]]:
        await self.flush()
        if self.store is not None:
            stored = await self.store.safety_events(limit, kind)
            if stored:
                return stored
        events = [event for event in reversed(self._recent) if not kind or event["kind"] == kind]
        return events[:limit]
