"""The durable store: residents' feedback, the questions the assistant could not answer, a record
of every question from before it goes to the back ends (so a crash loses none), and safety
audit events.

One SQLAlchemy URL chooses the database: SQLite (the embedded default, in WAL mode) or
PostgreSQL (``postgresql+psycopg://user@host/database``), which several gateway workers on
several machines share. The tables are created and changed by alembic migrations
(gateway/state/migrations), run at start-up unless ``[state] migrate = false``. Everything
written here is masked by the caller first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

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
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from gateway import metrics

#: Names for constraints and indexes, so migrations can address them on every database.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
}
metadata = MetaData(naming_convention=NAMING)

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
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

#: ``open``: waiting for an operator; ``resolved``: the gap was filled; ``linked``: an
#: existing knowledge-base entry answers it (``entry_id``).
STATUSES = ("open", "resolved", "linked")

unanswered_table = Table(
    "unanswered",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Questions are matched by a digest: an index on the text itself would be too long for
    # PostgreSQL's B-trees (1,000 Chinese characters are 3,000 bytes).
    Column("question_hash", String(64), nullable=False, unique=True),
    Column("question", Text, nullable=False),
    Column("language", String(16), nullable=False, default=""),
    Column("reason", String(32), nullable=False),
    Column("count", Integer, nullable=False, default=1),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False, index=True),
    Column("status", String(16), nullable=False, default="open", index=True),
    Column("entry_id", String(128), nullable=False, default=""),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
)

#: Every question from the moment it goes to the back ends (``asked``) until what became of it
#: is known: a question still ``asked`` when its worker died is counted as unanswered
#: (``interrupted``) at the next start. Its row is the record feedback is tied to.
answers_table = Table(
    "answers",
    metadata,
    Column("message_id", String(64), primary_key=True),
    Column("question", Text, nullable=False),
    Column("language", String(16), nullable=False, default=""),
    Column("state", String(16), nullable=False, index=True),
    Column("backend", String(64), nullable=False, default=""),
    Column("entry_id", String(128), nullable=False, default=""),
    Column("backend_metadata", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
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
    #: Set by the store.
    id: int = 0
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Unanswered:
    question: str
    language: str
    #: ``not_found`` (no back end had an answer), ``backend_failed`` or ``interrupted`` (the
    #: worker stopped while the question was being answered).
    reason: str
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    id: int = 0
    #: One of :data:`STATUSES`.
    status: str = "open"
    entry_id: str = ""
    resolved_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    helpful: int = 0
    not_helpful: int = 0
    #: Not-helpful ratings per back end and entry, worst first: what to improve.
    worst: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """A question put to the back ends and what answered it: what feedback is tied to."""

    message_id: str
    question: str
    language: str = ""
    #: ``asked`` (not settled yet), ``answered``, ``not_found``, ``backend_failed`` or
    #: ``interrupted`` (its worker stopped first).
    state: str = "asked"
    backend: str = ""
    entry_id: str = ""
    #: What the back end needs to find this answer again when it is rated (its own message id
    #: ``Answer.metadata[MESSAGE_ID]``, its conversation or user id), as JSON.
    backend_metadata: str = ""

    @property
    def metadata(self) -> dict[str, Any]:
        """The answer's ``Answer.metadata`` as the back end gave it (string values only)."""
        return json.loads(self.backend_metadata) if self.backend_metadata else {}


_ANSWER_INSERT = insert(answers_table)
_SETTLED_COLUMNS = ("state", "backend", "entry_id", "backend_metadata")
_ANSWER_SETTLE = update(answers_table).where(answers_table.c.message_id == bindparam("key"))
_ANSWER_SELECT = select(
    *(answers_table.c[name] for name in AnswerRecord.__dataclass_fields__)
).where(answers_table.c.message_id == bindparam("key"))


class DriverStatement:
    """A statement compiled once for a dialect and run on the DB-API cursor itself.

    The answer records are written on every question (docs/benchmarks.md, "After issue 15"):
    through SQLAlchemy's execution path, even with the statement compiled and cached, a
    question's insert and update cost some 0.5 ms of CPU more than the database's own work.
    The SQL, its parameters' order and their conversions (a ``DateTime`` as SQLite stores it)
    are still SQLAlchemy's, taken from the compiled statement.
    """

    def __init__(self, statement: Any, dialect: Any, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql: str = compiled.string
        self.positional: bool = compiled.positional
        self.names: tuple[str, ...] = tuple(
            compiled.positiontup if compiled.positional else compiled.binds
        )
        self.converters: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            converter = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if converter is not None:
                self.converters[name] = converter

    def parameters(self, row: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        values = {
            name: self.converters[name](row[name]) if name in self.converters else row[name]
            for name in self.names
        }
        return tuple(values[name] for name in self.names) if self.positional else values

    def run(self, cursor: Any, rows: Sequence[dict[str, Any]]) -> None:
        cursor.executemany(self.sql, [self.parameters(row) for row in rows])


def _answer_row(record: AnswerRecord) -> dict[str, Any]:
    # Not dataclasses.asdict: its deep copy of every field is most of a write's Python time.
    return {name: getattr(record, name) for name in AnswerRecord.__dataclass_fields__}


class NotFound(LookupError):
    pass


class Store(ABC):
    @abstractmethod
    async def record_feedback(self, feedback: Feedback) -> None: ...

    @abstractmethod
    async def keep_answers(
        self, asked: Sequence[AnswerRecord], settled: Sequence[AnswerRecord]
    ) -> None:
        """In one transaction: keep the questions ``asked`` before they go to the back ends
        (their ``state`` is ``asked``), then what became of those ``settled`` (their state, back
        end, entry and back-end metadata)."""

    @abstractmethod
    async def answer_record(self, message_id: str) -> AnswerRecord | None: ...

    @abstractmethod
    async def prune_answers(self, before: dt.datetime) -> int:
        """Forget the records of questions asked before ``before`` (``[state] answer_days``);
        how many there were."""

    @abstractmethod
    async def recover_interrupted(self, before: dt.datetime) -> int:
        """Count the questions still ``asked`` since before ``before`` (their worker stopped)
        as unanswered, ``interrupted``; how many there were."""

    @abstractmethod
    async def record_unanswered(self, question: str, language: str, reason: str) -> None:
        """Count one more asking of ``question`` that got no answer (a question resolved
        earlier and asked again without an answer is open again)."""

    @abstractmethod
    async def unanswered(
        self,
        limit: int = 100,
        offset: int = 0,
        status: str | None = None,
        order: str = "count",
    ) -> list[Unanswered]:
        """Unanswered questions, most asked first (``order="count"``) or most recent first
        (``"last_seen"``), optionally of one status."""

    @abstractmethod
    async def count_unanswered(self, status: str | None = None) -> int: ...

    @abstractmethod
    async def set_unanswered_status(
        self, question_id: int, status: str, entry_id: str = ""
    ) -> Unanswered:
        """Mark an unanswered question; raises :class:`NotFound`."""

    @abstractmethod
    async def feedback(
        self, limit: int = 100, offset: int = 0, helpful: bool | None = None
    ) -> list[Feedback]:
        """Feedback, newest first."""

    @abstractmethod
    async def count_feedback(self, helpful: bool | None = None) -> int: ...

    @abstractmethod
    async def feedback_summary(self, worst: int = 10) -> FeedbackSummary: ...

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


def question_hash(question: str) -> str:
    return hashlib.sha256(question.encode("utf-8")).hexdigest()


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives times back without their zone; they were written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


T = TypeVar("T", Feedback, Unanswered)


def _rows_as(cls: type[T], rows: Any) -> list[T]:
    fields = cls.__dataclass_fields__
    return [
        cls(**{key: _utc(row[key]) if isinstance(row[key], dt.datetime) else row[key]
               for key in fields})
        for row in rows
    ]  # fmt: skip


class SqlStore(Store):
    def __init__(self, url: str, migrate: bool = True, pool_size: int = 5) -> None:
        self.engine = make_engine(url, pool_size)
        if migrate:
            from gateway.state import migrations

            migrations.upgrade(self.engine)
        dialect = self.engine.dialect
        self._answer_insert = DriverStatement(
            _ANSWER_INSERT, dialect, [column.name for column in answers_table.c]
        )
        self._answer_settle = DriverStatement(_ANSWER_SETTLE, dialect, _SETTLED_COLUMNS)

    async def record_feedback(self, feedback: Feedback) -> None:
        row = {**asdict(feedback), "created_at": _now()}
        del row["id"]
        await self._run(lambda connection: connection.execute(insert(feedback_table), row))
        metrics.FEEDBACK.labels(str(feedback.helpful).lower()).inc()

    async def keep_answers(
        self, asked: Sequence[AnswerRecord], settled: Sequence[AnswerRecord]
    ) -> None:
        now = _now()
        rows = [{**_answer_row(record), "created_at": now} for record in asked]
        settles = [
            {
                "key": record.message_id,
                "state": record.state,
                "backend": record.backend,
                "entry_id": record.entry_id,
                "backend_metadata": record.backend_metadata,
            }
            for record in settled
        ]

        def write(cursor: Any) -> None:
            if rows:
                self._answer_insert.run(cursor, rows)
            if settles:
                self._answer_settle.run(cursor, settles)

        await self._run_on_cursor(write)

    async def answer_record(self, message_id: str) -> AnswerRecord | None:
        parameters = {"key": message_id}
        rows = await self._run(
            lambda connection: connection.execute(_ANSWER_SELECT, parameters).mappings().all()
        )
        return AnswerRecord(**rows[0]) if rows else None

    async def prune_answers(self, before: dt.datetime) -> int:
        table = answers_table
        statement = delete(table).where(table.c.created_at < before)
        return await self._run(lambda connection: connection.execute(statement).rowcount)

    async def recover_interrupted(self, before: dt.datetime) -> int:
        table = answers_table
        stale = select(table.c.message_id, table.c.question, table.c.language).where(
            table.c.state == "asked", table.c.created_at < before
        )

        def recover(connection: Connection) -> list[Any]:
            taken = []
            for row in connection.execute(stale).mappings().all():
                # Workers starting together: the one whose update takes the row counts it.
                claimed = connection.execute(
                    update(table)
                    .where(table.c.message_id == row["message_id"], table.c.state == "asked")
                    .values(state="interrupted")
                )
                if claimed.rowcount == 1:
                    connection.execute(
                        self._unanswered(row["question"], row["language"], "interrupted")
                    )
                    taken.append(row)
            return taken

        taken = await self._run(recover)
        for _ in taken:
            metrics.UNANSWERED.labels("interrupted").inc()
        return len(taken)

    async def record_unanswered(self, question: str, language: str, reason: str) -> None:
        upsert = self._unanswered(question, language, reason)
        await self._run(lambda connection: connection.execute(upsert))
        metrics.UNANSWERED.labels(reason).inc()

    def _unanswered(self, question: str, language: str, reason: str) -> Any:
        now = _now()
        dialect = self.engine.dialect.name
        upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
            unanswered_table
        ).values(
            question_hash=question_hash(question),
            question=question,
            language=language,
            reason=reason,
            count=1,
            first_seen=now,
            last_seen=now,
            status="open",
            entry_id="",
        )
        # One statement, so workers counting the same question at once never lose a count.
        return upsert.on_conflict_do_update(
            index_elements=[unanswered_table.c.question_hash],
            set_={
                "count": unanswered_table.c.count + 1,
                "last_seen": now,
                "reason": reason,
                "status": "open",
            },
        )

    async def unanswered(
        self,
        limit: int = 100,
        offset: int = 0,
        status: str | None = None,
        order: str = "count",
    ) -> list[Unanswered]:
        table = unanswered_table
        ordering = (
            [table.c.last_seen.desc(), table.c.id.desc()]
            if order == "last_seen"
            else [table.c.count.desc(), table.c.last_seen.desc(), table.c.id.desc()]
        )
        query = select(table).order_by(*ordering).limit(limit).offset(offset)
        if status:
            query = query.where(table.c.status == status)
        rows = await self._run(lambda connection: connection.execute(query).mappings().all())
        return _rows_as(Unanswered, rows)

    async def count_unanswered(self, status: str | None = None) -> int:
        query = select(func.count()).select_from(unanswered_table)
        if status:
            query = query.where(unanswered_table.c.status == status)
        return await self._run(lambda connection: connection.execute(query).scalar_one())

    async def set_unanswered_status(
        self, question_id: int, status: str, entry_id: str = ""
    ) -> Unanswered:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        table = unanswered_table
        values = {
            "status": status,
            "entry_id": entry_id if status == "linked" else "",
            "resolved_at": None if status == "open" else _now(),
        }

        def write(connection: Connection) -> Any:
            connection.execute(update(table).where(table.c.id == question_id).values(**values))
            return (
                connection.execute(select(table).where(table.c.id == question_id)).mappings().all()
            )

        rows = await self._run(write)
        if not rows:
            raise NotFound(question_id)
        return _rows_as(Unanswered, rows)[0]

    def _feedback_query(self, helpful: bool | None) -> Any:
        query = select(feedback_table)
        if helpful is not None:
            query = query.where(feedback_table.c.helpful == helpful)
        return query

    async def feedback(
        self, limit: int = 100, offset: int = 0, helpful: bool | None = None
    ) -> list[Feedback]:
        query = (
            self._feedback_query(helpful)
            .order_by(feedback_table.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        rows = await self._run(lambda connection: connection.execute(query).mappings().all())
        return _rows_as(Feedback, rows)

    async def count_feedback(self, helpful: bool | None = None) -> int:
        query = select(func.count()).select_from(self._feedback_query(helpful).subquery())
        return await self._run(lambda connection: connection.execute(query).scalar_one())

    async def feedback_summary(self, worst: int = 10) -> FeedbackSummary:
        table = feedback_table
        totals = select(table.c.helpful, func.count()).group_by(table.c.helpful)
        unhelpful = func.count().label("not_helpful")
        worst_query = (
            select(table.c.backend, table.c.entry_id, table.c.question, unhelpful)
            .where(table.c.helpful.is_(False))
            .group_by(table.c.backend, table.c.entry_id, table.c.question)
            .order_by(unhelpful.desc(), table.c.entry_id)
            .limit(worst)
        )

        def read(connection: Connection) -> tuple[Any, Any]:
            return (
                connection.execute(totals).all(),
                connection.execute(worst_query).mappings().all(),
            )

        counts, rows = await self._run(read)
        by_verdict = {bool(helpful): count for helpful, count in counts}
        return FeedbackSummary(
            helpful=by_verdict.get(True, 0),
            not_helpful=by_verdict.get(False, 0),
            worst=[dict(row) for row in rows],
        )

    async def record_safety_event(self, event: dict[str, Any]) -> None:
        await self._run(lambda connection: connection.execute(insert(safety_events_table), event))

    async def safety_events(
        self, limit: int = 100, kind: str | None = None
    ) -> list[dict[str, Any]]:
        query = select(safety_events_table).order_by(safety_events_table.c.id.desc()).limit(limit)
        if kind:
            query = query.where(safety_events_table.c.kind == kind)
        rows = await self._run(lambda connection: connection.execute(query).mappings().all())
        return [
            {key: _utc(value) if key == "created_at" else value for key, value in row.items()
             if key != "id"}
            for row in rows
        ]  # fmt: skip

    async def aclose(self) -> None:
        self.engine.dispose()

    async def _run(self, work: Callable[[Connection], Any]) -> Any:
        def in_transaction() -> Any:
            with self.engine.begin() as connection:
                return work(connection)

        return await anyio.to_thread.run_sync(in_transaction)

    async def _run_on_cursor(self, work: Callable[[Any], Any]) -> Any:
        """``work(cursor)`` in one transaction on a pooled DB-API connection."""

        def in_transaction() -> Any:
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                try:
                    result = work(cursor)
                finally:
                    cursor.close()
                connection.commit()
                return result
            except BaseException:
                connection.rollback()
                raise
            finally:
                connection.close()  # back into the pool

        return await anyio.to_thread.run_sync(in_transaction)


def make_engine(url: str, pool_size: int = 5) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size * 2
        )
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
