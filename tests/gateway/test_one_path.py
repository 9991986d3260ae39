"""One path for every answer (issue 15): the blocking reply is the stream collected, so both
deliveries keep the same rules — the breaker settled before the slot is left, answers cut at
their back end's cap, the question kept before any of its answer is shown, feedback tied to its
answer on any worker — and the core never imports the HTTP API."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import update

from gateway.backends.base import MESSAGE_ID, Answer, Delta, Done, Query
from gateway.backends.static import StaticBackend
from gateway.chat import ChatService
from gateway.config import Settings
from gateway.replies import Finished
from gateway.routing import Router
from gateway.state.answers import AnswerRecord, AnswerRecords
from gateway.state.breakers import CircuitBreaker
from gateway.state.store import SqlStore, answers_table

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


def test_nothing_below_the_api_imports_it():
    """The core produces domain replies; only gateway/api/ (and app.py, which mounts it)
    knows their HTTP shapes."""
    offenders = []
    for path in sorted((ROOT / "gateway").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("gateway/api/") or relative == "gateway/app.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
                if node.module == "gateway":
                    names = [f"gateway.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(name == "gateway.api" or name.startswith("gateway.api.") for name in names):
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []


# -- the breaker and the slot: one rule for both deliveries -----------------------------------


class RecordingBreaker(CircuitBreaker):
    """A real in-process breaker that notes each verdict with the lane's questions in flight."""

    def __init__(self, router: Router, name: str) -> None:
        super().__init__(failures=5, reset_after=30)
        self.router, self.name, self.calls = router, name, []

    def _note(self, call: str) -> None:
        self.calls.append((call, self.router.lanes[self.name].in_flight))

    async def succeeded(self) -> None:
        self._note("succeeded")
        await super().succeeded()

    async def failed(self) -> None:
        self._note("failed")
        await super().failed()

    async def release(self) -> None:
        self._note("release")
        await super().release()


TWO = """
[[backends]]
name = "first"
type = "static"
answer = "第一个回答：请带身份证到窗口办理。"
fail = {fail}

[[backends]]
name = "second"
type = "static"
answer = "第二个回答：请带身份证到窗口办理。"

[[routes]]
backends = ["first", "second"]
"""


@pytest.mark.parametrize("fail", [False, True])
@pytest.mark.parametrize("stream", [False, True])
async def test_the_breaker_is_settled_before_the_slot_is_left(serve_app, stream, fail):
    async with serve_app(TWO.format(fail=str(fail).lower())) as client:
        router = client.chat.router
        breaker = RecordingBreaker(router, "first")
        router.lanes["first"].breaker = breaker
        response = await client.post(
            "/api/v1/chat", json={"message": "居住证怎么办理", "stream": stream}
        )
    assert response.status_code == 200
    assert ("第二个" if fail else "第一个") in response.text
    verdict = "failed" if fail else "succeeded"
    assert breaker.calls == [(verdict, 1), ("release", 0)]


# -- a cap on the answer's size ---------------------------------------------------------------

LONG = "第{n}条：请带身份证到窗口办理。\n"
CAPPED = """
[[backends]]
name = "long"
type = "static"
answer = "{answer}"
chunk_chars = {chunk}
max_answer_chars = 100
"""


@pytest.mark.parametrize("chunk", [7, 10_000])  # streamed in pieces, or whole in one
@pytest.mark.parametrize("stream", [False, True])
async def test_an_answer_longer_than_its_cap_is_cut_with_a_notice(serve_app, stream, chunk):
    answer = "".join(LONG.format(n=n) for n in range(40))
    toml = CAPPED.format(answer=answer.replace("\n", "\\n"), chunk=chunk)
    toml += '[[routes]]\nbackends = ["long"]\n'
    async with serve_app(toml) as client:
        response = await client.post(
            "/api/v1/chat", json={"message": "居住证怎么办理", "stream": stream, "lang": "en"}
        )
    if stream:
        blocks = [b for b in response.text.strip().split("\n\n")]
        events = [
            (lines["event"], json.loads(lines["data"]))
            for lines in (dict(line.split(": ", 1) for line in b.splitlines()) for b in blocks)
        ]
        shown = ""
        for name, data in events:
            if name == "delta":
                shown += data["text"]
            elif name == "replace":
                shown = data["text"]
        reply = events[-1][1]
        assert shown == reply["answer"]
    else:
        reply = response.json()
    assert reply["found"] and answer.startswith(reply["answer"].rstrip())
    assert 90 <= len(reply["answer"]) <= 100
    [notice] = [n for n in reply["notices"] if n["code"] == "answer_truncated"]
    assert "too long" in notice["message"] and "12345" in notice["message"]


async def test_an_answer_within_its_cap_is_untouched(serve_app):
    toml = CAPPED.format(answer="请带身份证到窗口办理。", chunk=3)
    toml += '[[routes]]\nbackends = ["long"]\n'
    async with serve_app(toml) as client:
        reply = (await client.post("/api/v1/chat", json={"message": "居住证怎么办理"})).json()
    assert reply["answer"] == "请带身份证到窗口办理。" and reply["notices"] == []


# -- the question kept before any of its answer is shown -------------------------------------


class Stalling(StaticBackend):
    """Sends a first piece, then never finishes: a worker killed now must lose nothing."""

    type = "stalling"

    async def stream(self, query: Query):
        yield Delta("您好，")
        await asyncio.Event().wait()
        yield Done(Answer(text="您好，"))  # pragma: no cover


class Rated(StaticBackend):
    """An engine that learns from ratings, as Dify does: it gets them with its message id."""

    type = "rated"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ratings: list[tuple[AnswerRecord, bool, str]] = []
        self.asked = False

    async def stream(self, query: Query):
        self.asked = True
        yield Delta("请带身份证到窗口办理。")
        yield Done(Answer(text="请带身份证到窗口办理。", metadata={MESSAGE_ID: "engine-42"}))

    async def feedback(self, record: AnswerRecord, helpful: bool, comment: str) -> None:
        self.ratings.append((record, helpful, comment))


def worker(
    settings: Settings, backend_type: type[StaticBackend], store: SqlStore | None = None
) -> ChatService:
    """A gateway worker over ``settings``' database (or ``store``), answered by one back end
    of its own."""
    base = ChatService.from_settings(settings)
    backend = backend_type("engine", StaticBackend.Options(answer="-"), base.services)
    backends = {"engine": backend}
    return ChatService(
        settings,
        base.services,
        base.pipeline,
        backends,
        Router(settings.routes, backends),
        store or base.store,
        translation=base.translation,
    )


ENGINE = """
[[backends]]
name = "engine"
type = "static"
timeout = 0.5

[[routes]]
backends = ["engine"]
"""


async def test_a_question_is_kept_before_its_answer_is_shown_and_counted_after_a_crash(
    make_settings,
):
    settings = make_settings(ENGINE)
    first = worker(settings, Stalling)
    await first.startup()
    prepared = first.prepare("我的居住证丢了怎么补办", "zh-CN")
    events = first.stream(prepared)
    answering = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.2)
    kept = await first.store.answer_record(prepared.message_id)
    assert kept is not None and kept.state == "asked"
    assert kept.question == prepared.query.text
    # The worker dies mid-answer: nothing of it runs any more.
    answering.cancel()
    await asyncio.gather(answering, return_exceptions=True)

    second = worker(settings, Stalling)
    # Asked too recently: another worker may still be answering it.
    assert await second.store.recover_interrupted(dt.datetime.now(dt.UTC) - dt.timedelta(60)) == 0
    assert await second.store.recover_interrupted(dt.datetime.now(dt.UTC)) == 1
    [unanswered] = await second.store.unanswered()
    assert (unanswered.question, unanswered.reason) == (prepared.query.text, "interrupted")
    assert (await second.store.answer_record(prepared.message_id)).state == "interrupted"
    assert await second.store.recover_interrupted(dt.datetime.now(dt.UTC)) == 0, "counted once"
    for service in (first, second):
        await service.store.aclose()


class HeldStore(SqlStore):
    """The real SQLite store, its answer records written only once ``release`` is set."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.release = asyncio.Event()

    async def keep_answers(self, asked, settled) -> None:
        await self.release.wait()
        await super().keep_answers(asked, settled)


class DownStore(SqlStore):
    """A database that refuses every answer record."""

    async def keep_answers(self, asked, settled) -> None:
        raise OSError("database is down")


async def test_the_back_end_is_asked_while_the_question_is_written_but_shown_after(
    make_settings,
):
    settings = make_settings(ENGINE)
    store = HeldStore(settings.state.database_url)
    service = worker(settings, Rated, store)
    await service.startup()
    prepared = service.prepare("居住证怎么办理", "zh-CN")
    first = asyncio.ensure_future(anext(service.stream(prepared)))
    await asyncio.sleep(0.1)
    assert service.backends["engine"].asked, "the back end is asked meanwhile"
    assert not first.done(), "its first piece waits for the question to be kept"
    store.release.set()
    assert "请带身份证到窗口办理。".startswith((await first).text)
    assert (await store.answer_record(prepared.message_id)).question == "居住证怎么办理"
    await service.aclose()


async def test_a_database_that_is_down_costs_the_resident_no_answer(make_settings, caplog):
    settings = make_settings(ENGINE)
    service = worker(settings, Rated, DownStore(settings.state.database_url))
    await service.startup()
    reply = await service.answer(service.prepare("居住证怎么办理", "zh-CN"))
    assert reply.found and reply.answer == "请带身份证到窗口办理。"
    events = [event async for event in service.stream(service.prepare("居住证怎么办理", "zh-CN"))]
    assert isinstance(events[-1], Finished) and events[-1].reply.found
    assert "could not keep 1 questions" in caplog.text
    await service.aclose()


async def test_feedback_reaches_the_record_and_the_backend_on_another_worker(make_settings):
    settings = make_settings(ENGINE)
    one, two = worker(settings, Rated), worker(settings, Rated)
    for service in (one, two):
        await service.startup()
    reply = await one.answer(one.prepare("居住证怎么办理，电话13812345678", "zh-CN"))
    await two.feedback(reply.message_id, False, "没用，打我电话13812345678")

    [stored] = await two.store.feedback()
    assert stored.question.startswith("居住证怎么办理") and stored.backend == "engine"
    assert "13812345678" not in stored.question + stored.comment
    [(record, helpful, comment)] = two.backends["engine"].ratings
    assert record.metadata[MESSAGE_ID] == "engine-42" and record.state == "answered"
    assert helpful is False and "13812345678" not in comment
    assert one.backends["engine"].ratings == []
    for service in (one, two):
        await service.aclose()


async def test_with_redis_a_rating_finds_its_answer_even_where_databases_differ(
    make_settings, tmp_path, redis_url
):
    """Workers that share Redis but not a database (SQLite on each host) still tie a rating
    to its answer: the record is in Redis."""
    one, two = (
        worker(
            make_settings(
                ENGINE,
                GATEWAY_REDIS__URL=redis_url,
                GATEWAY_STATE__DATABASE_URL=f"sqlite:///{tmp_path / name}.db",
            ),
            Rated,
        )
        for name in ("one", "two")
    )
    for service in (one, two):
        await service.startup()
    reply = await one.answer(one.prepare("居住证怎么办理", "zh-CN"))
    assert await two.store.answer_record(reply.message_id) is None  # not in its database
    await two.feedback(reply.message_id, True, "")
    [stored] = await two.store.feedback()
    assert stored.question == "居住证怎么办理" and stored.backend == "engine"
    [(record, helpful, _)] = two.backends["engine"].ratings
    assert record.metadata[MESSAGE_ID] == "engine-42" and helpful
    for service in (one, two):
        await service.aclose()


# -- answer records: grouped writes, kept [state] answer_days --------------------------------


class CountingStore(SqlStore):
    """The real SQLite store, noting how many transactions wrote answer records."""

    transactions = 0

    async def keep_answers(self, asked, settled) -> None:
        self.transactions += 1
        await super().keep_answers(asked, settled)


async def test_questions_asked_at_once_are_kept_in_few_transactions(tmp_path):
    store = CountingStore(f"sqlite:///{tmp_path / 'state.db'}")
    records = AnswerRecords(store)
    asked = [AnswerRecord(f"m{number}", f"问题{number}", "zh") for number in range(32)]
    await asyncio.gather(*(records.asked(record) for record in asked))
    assert [(await store.answer_record(r.message_id)).state for r in asked] == ["asked"] * 32
    assert store.transactions <= 3, "32 questions kept in a few transactions, not 32"

    before = store.transactions
    for record in asked:
        await records.settled(replace(record, state="answered", backend="engine"))
    # Not written yet, or being written: this worker's ratings see them all the same.
    assert (await records.get("m7")).backend == "engine"
    await records.flush()
    assert store.transactions - before <= 2
    assert {(await store.answer_record(r.message_id)).state for r in asked} == {"answered"}
    await store.aclose()


async def test_a_rating_on_another_worker_waits_for_the_answer_settling_there(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    one, two = AnswerRecords(SqlStore(url)), AnswerRecords(SqlStore(url))
    await one.asked(AnswerRecord("m1", "居住证怎么办理", "zh"))
    await one.settled(AnswerRecord("m1", "居住证怎么办理", "zh", "answered", "engine", "e1"))
    record = await two.get("m1")  # before worker one wrote it
    assert (record.state, record.backend, record.entry_id) == ("answered", "engine", "e1")
    for records in (one, two):
        await records.flush()
        await records.store.aclose()


async def test_answer_records_older_than_answer_days_are_forgotten_at_start(make_settings):
    settings = make_settings(ENGINE, GATEWAY_STATE__ANSWER_DAYS="30")
    store = SqlStore(settings.state.database_url)
    await store.keep_answers(
        [AnswerRecord("old", "去年的问题", "zh"), AnswerRecord("new", "昨天的问题", "zh")], []
    )
    table = answers_table
    with store.engine.begin() as connection:
        for message_id, days in (("old", 31), ("new", 29)):
            asked_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
            connection.execute(
                update(table).where(table.c.message_id == message_id).values(created_at=asked_at)
            )
    service = worker(settings, Rated)
    await service.startup()
    assert await service.store.answer_record("old") is None
    assert await service.store.answer_record("new") is not None
    # A rating of the forgotten answer is still kept, without what it rated.
    await service.feedback("old", True, "")
    [stored] = await service.store.feedback()
    assert (stored.message_id, stored.question, stored.backend) == ("old", "", "")
    await service.aclose()
    await store.aclose()
