"""The store's alembic migrations, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import threading

import anyio
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table, insert, inspect, text

from gateway.state import migrations
from gateway.state.store import SqlStore, make_engine, metadata, question_hash


def await_(coroutine):
    async def run():
        return await coroutine

    return anyio.run(run)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return request.getfixturevalue("postgres_url")


def differences(engine) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), metadata)


def test_the_migrated_database_is_exactly_the_tables_the_store_describes(database_url):
    engine = make_engine(database_url)
    migrations.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    assert differences(engine) == []
    migrations.upgrade(engine)  # a second start finds nothing to do
    assert migrations.current(engine) == migrations.head()
    engine.dispose()


def test_a_database_made_before_migrations_keeps_its_rows(database_url):
    """The first version created its tables itself: they are recognised as the baseline and
    upgraded, rows included."""
    engine = make_engine(database_url)
    migrations.upgrade(engine, migrations.BASELINE)
    now = dt.datetime.now(dt.UTC)
    baseline = Table("unanswered", MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(
            insert(baseline),
            {"question": "怎么养猫", "language": "zh", "reason": "not_found", "count": 4,
             "first_seen": now, "last_seen": now},
        )  # fmt: skip
    migrations.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    assert differences(engine) == []
    with engine.connect() as connection:
        digest = connection.execute(text("SELECT question_hash FROM unanswered")).scalar_one()
        assert digest == question_hash("怎么养猫")
    store = SqlStore(database_url)
    [row] = await_(store.unanswered())
    assert (row.question, row.count, row.status, row.first_seen) == ("怎么养猫", 4, "open", now)
    # Asked again: counted on the copied row; a new question gets an id after the copied one
    # (not necessarily the next: PostgreSQL spends a number on every upsert).
    await_(store.record_unanswered("怎么养猫", "zh", "not_found"))
    await_(store.record_unanswered("别的问题", "zh", "not_found"))
    counts = {item.id: item.count for item in await_(store.unanswered())}
    assert counts.pop(row.id) == 5
    assert [(new_id > row.id, count) for new_id, count in counts.items()] == [(True, 1)]
    await_(store.aclose())
    engine.dispose()


def test_downgrade_and_upgrade_again(database_url):
    engine = make_engine(database_url)
    migrations.upgrade(engine)
    migrations.downgrade(engine, migrations.BASELINE)
    assert "question_hash" not in {c["name"] for c in inspect(engine).get_columns("unanswered")}
    migrations.upgrade(engine)
    assert differences(engine) == []
    engine.dispose()


def test_workers_starting_together_migrate_once(database_url):
    """Four workers start at the same moment: one migrates, the others wait and find the
    schema up to date (PostgreSQL advisory lock; a lock file beside a SQLite database)."""
    engines = [make_engine(database_url) for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(engines))

    def start(engine) -> None:
        barrier.wait()
        try:
            migrations.upgrade(engine)
        except BaseException as exc:  # pragma: no cover - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert migrations.current(engines[0]) == migrations.head()
    for engine in engines:
        engine.dispose()
