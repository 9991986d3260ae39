"""The store's schema, changed only by these alembic migrations (``versions/``).

:func:`upgrade` runs at start-up (``[state] migrate``) and from ``gateway db upgrade``. Workers
starting together take turns: a PostgreSQL advisory lock, or a lock file beside a SQLite
database, so one migrates and the others find the schema up to date. A database made before
migrations existed (tables but no ``alembic_version``) is recognised as the first revision.

To change the schema: change the tables in gateway/state/store.py, then write the next
revision here (``alembic revision`` with ``script_location`` pointing at this folder, or by
hand, copying the shape of the last one); tests/gateway/test_migrations.py checks that the
migrated database matches the tables on SQLite and PostgreSQL.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).parent
BASELINE = "0001"
#: Any number, the same in every worker: the key of PostgreSQL's advisory lock.
ADVISORY_LOCK = 7_403_221_118


def config() -> Config:
    settings = Config()
    settings.set_main_option("script_location", str(HERE))
    return settings


def head() -> str:
    head = ScriptDirectory.from_config(config()).get_current_head()
    assert head is not None
    return head


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _exclusive(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        settings = config()
        settings.attributes["connection"] = connection
        if _predates_migrations(connection):
            command.stamp(settings, BASELINE)
        command.upgrade(settings, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with _exclusive(engine), engine.begin() as connection:
        settings = config()
        settings.attributes["connection"] = connection
        command.downgrade(settings, revision)


def _predates_migrations(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    return "feedback" in tables and "alembic_version" not in tables


@contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    """One process at a time migrates a SQLite file (PostgreSQL locks by itself)."""
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:"):
        yield
        return
    with open(f"{Path(database).expanduser()}.migrate.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
