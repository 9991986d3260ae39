"""The durable store: residents' feedback and the questions the assistant could not answer.

One SQLAlchemy URL chooses the database: SQLite (the embedded default, in WAL mode) or any
database SQLAlchemy speaks. Everything written here is masked by the caller first.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import StaticPool

metadata = MetaData()

feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(64), nullable=False, index=True),
    Column("helpful", Boolean, nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("question", Text, nullable=False, default=""),
    Column("backend", String(64), nullable=False, default=""),
    Column("entry_id", String(128), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

unanswered_table = Table(
    "unanswered",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False, unique=True),
    Column("language", String(16), nullable=False, default=""),
    Column("reason", String(32), nullable=False),
    Column("count", Integer, nullable=False, default=1),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
)


safety_events_table = Table(
    "safety_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("kind", String(32), nullable=False, index=True),
    Column("stage", String(16), nullable=False, default=""),
    Column("action", String(16), nullable=False, default=""),
    Column("category", String(64), nullable=False, default=""),
    Column("rule", String(128), nullable=False, default=""),
    Column("excerpt", Text, nullable=False, default=""),
    Column("session", String(16), nullable=False, default=""),
    Column("backend", String(64), nullable=False, default=""),
)


@dataclass(frozen=True, slots=True)
class Feedback:
    message_id: str
    helpful: bool
    comment: str = ""
    question: str = ""
    backend: str = ""
    entry_id: str = ""


@dataclass(frozen=True, slots=True)
class Unanswered:
    question: str
    language: str
    #: ``not_found`` (no back end had an answer) or ``backend_failed``.
    reason: str
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime


class Store(ABC):
    @abstractmethod
    async def record_feedback(self, feedback: Feedback) -> None: ...

    @abstractmethod
    async def record_unanswered(self, question: str, language: str, reason: str) -> None:
        """Count one more asking of ``question`` that got no answer."""

    @abstractmethod
    async def unanswered(self, limit: int = 100) -> list[Unanswered]:
        """Unanswered questions, most asked first."""

    @abstractmethod
    async def feedback(self, limit: int = 100) -> list[Feedback]:
        """Feedback, newest first."""

    async def record_safety_event(self, event: dict[str, Any]) -> None:
        """Keep one audit event (gateway/safety/audit.py); a store without a table for them
        leaves them to the ``gateway.audit`` log."""

    async def safety_events(
        self, limit: int = 100, kind: str | None = None
    ) -> list[dict[str, Any]]:
        """Audit events, newest first."""
        return []

    async def aclose(self) -> None:
        """Release connections."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SqlStore(Store):
    def __init__(self, url: str) -> None:
        self.engine = _engine(url)
        metadata.create_all(self.engine)

    async def record_feedback(self, feedback: Feedback) -> None:
        row = {**asdict(feedback), "created_at": _now()}
        await self._run(lambda connection: connection.execute(insert(feedback_table), row))

    async def record_unanswered(self, question: str, language: str, reason: str) -> None:
        def write(connection: Any) -> None:
            now = _now()
            counted = connection.execute(
                update(unanswered_table)
                .where(unanswered_table.c.question == question)
                .values(count=unanswered_table.c.count + 1, last_seen=now, reason=reason)
            )
            if counted.rowcount == 0:
                connection.execute(
                    insert(unanswered_table),
                    {
                        "question": question,
                        "language": language,
                        "reason": reason,
                        "count": 1,
                        "first_seen": now,
                        "last_seen": now,
                    },
                )

        await self._run(write)

    async def unanswered(self, limit: int = 100) -> list[Unanswered]:
        query = (
            select(unanswered_table)
            .order_by(unanswered_table.c.count.desc(), unanswered_table.c.last_seen.desc())
            .limit(limit)
        )
        rows = await self._run(lambda connection: connection.execute(query).mappings().all())
        fields = Unanswered.__dataclass_fields__
        return [Unanswered(**{key: row[key] for key in fields}) for row in rows]

    async def feedback(self, limit: int = 100) -> list[Feedback]:
        query = select(feedback_table).order_by(feedback_table.c.id.desc()).limit(limit)
        rows = await self._run(lambda connection: connection.execute(query).mappings().all())
        fields = Feedback.__dataclass_fields__
        return [Feedback(**{key: row[key] for key in fields}) for row in rows]

    async def record_safety_event(self, event: dict[str, Any]) -> None:
        await self._run(lambda connection: connection.execute(insert(safety_events_table), event))

    async def safety_events(
        self, limit: int = 100, kind: str | None = None
    ) -> list[dict[str, Any]]:
        query = select(safety_events_table).order_by(safety_events_table.c.id.desc()).limit(limit)
        if kind:
            query = query.where(safety_events_table.c.kind == kind)
        rows = await self._run(lambda connection: connection.execute(query).mappings().all())
        return [{key: value for key, value in row.items() if key != "id"} for row in rows]

    async def aclose(self) -> None:
        self.engine.dispose()

    async def _run(self, work: Any) -> Any:
        def in_transaction() -> Any:
            with self.engine.begin() as connection:
                return work(connection)

        return await anyio.to_thread.run_sync(in_transaction)


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        # One shared connection, or every new connection would see an empty database.
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    return engine
