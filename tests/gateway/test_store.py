import sqlite3

import pytest

from gateway.state.store import Feedback, SqlStore

pytestmark = pytest.mark.anyio


async def test_sqlite_file_is_created_in_wal_mode_with_its_folder(tmp_path):
    path = tmp_path / "deep" / "state.db"
    store = SqlStore(f"sqlite:///{path}")
    await store.record_feedback(Feedback(message_id="m1", helpful=True))
    await store.aclose()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("SELECT message_id, helpful FROM feedback").fetchall() == [
            ("m1", 1)
        ]


async def test_unanswered_questions_are_counted_with_first_and_last_seen():
    store = SqlStore("sqlite://")
    for _ in range(3):
        await store.record_unanswered("怎么养猫", "zh", "not_found")
    await store.record_unanswered("别的", "zh", "backend_failed")
    rows = await store.unanswered()
    assert [(r.question, r.count) for r in rows] == [("怎么养猫", 3), ("别的", 1)]
    assert rows[0].first_seen <= rows[0].last_seen
