import asyncio
import datetime as dt
import sqlite3

import pytest

from gateway.state.store import Feedback, NotFound, SqlStore

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


# -- on SQLite and on a real PostgreSQL server ----------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = SqlStore(url)
    yield store
    await store.aclose()


async def test_workers_counting_one_question_at_once_lose_no_count(store):
    """One upsert per asking: forty concurrent writers, one row counting forty."""
    await asyncio.gather(
        *(store.record_unanswered("办理残疾证要多久", "zh", "not_found") for _ in range(40))
    )
    [row] = await store.unanswered()
    assert row.count == 40 and row.status == "open"


async def test_long_questions_are_kept_and_matched_whole(store):
    # 1,000 Chinese characters are 3,000 bytes: more than PostgreSQL indexes in a B-tree.
    long = "居住证" * 333 + "吗"
    longer = long + "？"
    for question in (long, long, longer):
        await store.record_unanswered(question, "zh", "not_found")
    rows = {row.question: row.count for row in await store.unanswered()}
    assert rows == {long: 2, longer: 1}


async def test_marking_resolved_linked_and_reopening(store):
    for question, times in (("怎么养猫", 3), ("公积金怎么提取", 1)):
        for _ in range(times):
            await store.record_unanswered(question, "zh", "not_found")
    cat, fund = await store.unanswered()
    resolved = await store.set_unanswered_status(cat.id, "resolved")
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    linked = await store.set_unanswered_status(fund.id, "linked", "housing-fund-withdraw-rent")
    assert (linked.status, linked.entry_id) == ("linked", "housing-fund-withdraw-rent")
    assert [row.question for row in await store.unanswered(status="open")] == []
    assert await store.count_unanswered("linked") == 1
    # Asked again and still unanswered: back for the operators.
    await store.record_unanswered("怎么养猫", "zh", "not_found")
    [again] = await store.unanswered(status="open")
    assert (again.question, again.count) == ("怎么养猫", 4)
    with pytest.raises(NotFound):
        await store.set_unanswered_status(99999, "resolved")


async def test_unanswered_order_paging_and_times(store):
    for index in range(5):
        for _ in range(index + 1):
            await store.record_unanswered(f"问题{index}", "zh", "not_found")
    by_count = [row.question for row in await store.unanswered(limit=2, offset=1)]
    assert by_count == ["问题3", "问题2"]
    recent = await store.unanswered(limit=1, order="last_seen")
    assert recent[0].question == "问题4"
    assert recent[0].last_seen.tzinfo is not None
    assert dt.datetime.now(dt.UTC) - recent[0].last_seen < dt.timedelta(minutes=1)


async def test_feedback_listing_and_summary(store):
    for index, helpful in enumerate([True, False, False, True, False]):
        await store.record_feedback(
            Feedback(
                message_id=f"m{index}",
                helpful=helpful,
                question="怎么养猫" if not helpful else "居住证",
                backend="faq",
                entry_id="cats" if not helpful else "residence-permit-apply",
            )
        )
    newest = await store.feedback(limit=2)
    assert [f.message_id for f in newest] == ["m4", "m3"]
    assert newest[0].created_at is not None and newest[0].created_at.tzinfo is not None
    assert await store.count_feedback() == 5
    assert await store.count_feedback(helpful=False) == 3
    assert [f.message_id for f in await store.feedback(helpful=True)] == ["m3", "m0"]
    summary = await store.feedback_summary()
    assert (summary.helpful, summary.not_helpful) == (2, 3)
    assert summary.worst == [
        {"backend": "faq", "entry_id": "cats", "question": "怎么养猫", "not_helpful": 3}
    ]


async def test_safety_events_come_back_with_their_time_zone(store):
    event = {
        "created_at": dt.datetime.now(dt.UTC),
        "kind": "question_blocked",
        "stage": "question",
        "action": "block",
        "category": "test",
        "rule": "词",
        "excerpt": "",
        "session": "abc",
        "backend": "",
    }
    await store.record_safety_event(event)
    [stored] = await store.safety_events(kind="question_blocked")
    assert stored == event
