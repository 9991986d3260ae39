"""Answer records: what feedback on an answer is tied to (the question, the back end, the
knowledge-base entry, the back end's own message id), on whichever worker the rating arrives.

Every question is kept in the durable store before it goes to the back ends and settled when
its outcome is known (gateway/state/store.py), so a worker that dies mid-answer loses nothing.
:class:`AnswerRecords` writes and reads the records in that store; :class:`RedisAnswerRecords`
keeps settled ones in Redis too, for workers that do not share one database.

The writes are grouped: one writer per worker takes every record waiting while its last
transaction ran into the next one, so thirty-two questions answered at once cost one
transaction, not sixty-four, and settled records wait up to :data:`SETTLE_WAIT` for the next
question's (one transaction a question, one after another). A question's record is written
while its back end is being asked, and no piece of its answer reaches the resident before it
is kept; a reply does not wait for its settling (a rating on this worker sees the records
still waiting; one on another worker that finds its record unsettled reads it again a few
times within a second). Records older than ``[state]
answer_days`` are forgotten: once at start-up and then once an hour, by the writer between
two of its transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from dataclasses import asdict
from typing import TYPE_CHECKING

from gateway.state.store import AnswerRecord, Store

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("gateway.state")

__all__ = ["AnswerRecord", "AnswerRecords", "RedisAnswerRecords"]

#: Seconds between two prunings of old records.
PRUNE_EVERY = 3600.0
#: Seconds settled records wait for a question to be kept with them in one transaction.
SETTLE_WAIT = 0.1
#: Pauses (seconds) before reading again a record still ``asked`` when it is rated.
SETTLING = (0.01, 0.05, 0.2, 0.5)


class AnswerRecords:
    """The records in the durable store, kept ``days`` days."""

    def __init__(self, store: Store, days: float = 30.0) -> None:
        self.store = store
        self.days = days
        self._asked: list[tuple[AnswerRecord, asyncio.Future[bool]]] = []
        #: Settled records not written yet, and those being written: by message id.
        self._settled: dict[str, AnswerRecord] = {}
        self._writing: dict[str, AnswerRecord] = {}
        self._writer: asyncio.Task[None] | None = None
        #: Set when a question is waiting to be kept (or at shutdown): settles wait no more.
        self._hurry = asyncio.Event()
        self._next_prune = 0.0

    def asked(self, record: AnswerRecord) -> asyncio.Future[bool]:
        """Hand the question to the writer. The future is done once the writer has tried:
        ``True`` when the record is written, ``False`` when it could not be (logged here; a
        store that is down must not cost the resident the answer)."""
        kept: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._asked.append((record, kept))
        self._hurry.set()
        self._write()
        return kept

    async def settled(self, record: AnswerRecord) -> None:
        """What became of the question: written soon, in the writer's next transaction."""
        self._settled[record.message_id] = record
        self._write()

    async def get(self, message_id: str) -> AnswerRecord | None:
        waiting = self._settled.get(message_id) or self._writing.get(message_id)
        if waiting is not None:
            return waiting
        record = await self.store.answer_record(message_id)
        for pause in SETTLING:
            if record is None or record.state != "asked":
                break
            # Answered on another worker a moment ago, its settling not written yet (replies
            # do not wait for it): ratings are rare, this wait is cheap.
            await asyncio.sleep(pause)
            record = await self.store.answer_record(message_id)
        return record

    async def prune(self) -> int:
        """Forget the records older than ``days``; how many there were."""
        self._next_prune = time.monotonic() + PRUNE_EVERY
        before = dt.datetime.now(dt.UTC) - dt.timedelta(days=self.days)
        return await self.store.prune_answers(before)

    async def flush(self) -> None:
        """Wait until every record handed over so far is written (at shutdown)."""
        while self._writer is not None and not self._writer.done():
            self._hurry.set()
            await asyncio.shield(self._writer)

    def _write(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._asked or self._settled:
            if not self._asked:
                # Only settles: with the next question's record they cost one transaction.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), SETTLE_WAIT)
            self._hurry.clear()
            asked, self._asked = self._asked, []
            self._writing, self._settled = self._settled, {}
            try:
                await self.store.keep_answers(
                    [record for record, _ in asked], list(self._writing.values())
                )
            except Exception:
                log.exception(
                    "could not keep %d questions and settle %d answer records",
                    len(asked),
                    len(self._writing),
                )
                written = False
            else:
                written = True
            finally:
                self._writing = {}
            for _, kept in asked:
                if not kept.done():  # its resident may have left
                    kept.set_result(written)
            if time.monotonic() >= self._next_prune:
                try:
                    pruned = await self.prune()
                except Exception:
                    log.exception("could not forget old answer records")
                else:
                    if pruned:
                        log.info("forgot %d answer records older than %g days", pruned, self.days)


class RedisAnswerRecords(AnswerRecords):
    """Settled records also in Redis (``key`` + message id, kept ``days``), where every worker
    finds them even when each has a database of its own."""

    def __init__(self, store: Store, redis: Redis, key: str, days: float = 30.0) -> None:
        super().__init__(store, days)
        self.redis = redis
        self.key = key
        self.ttl = max(1, round(days * 86400))

    async def settled(self, record: AnswerRecord) -> None:
        await super().settled(record)
        value = json.dumps(asdict(record), ensure_ascii=False)
        await self.redis.set(self.key + record.message_id, value, ex=self.ttl)

    async def get(self, message_id: str) -> AnswerRecord | None:
        value = await self.redis.get(self.key + message_id)
        if value is not None:
            return AnswerRecord(**json.loads(value))
        return await super().get(message_id)
