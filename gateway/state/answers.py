"""Answer records: what feedback on an answer is tied to (the question, the back end, the
knowledge-base entry, the back end's own message id), on whichever worker the rating arrives.

Every question is kept in the durable store before it goes to the back ends and settled when
its outcome is known (gateway/state/store.py), so a worker that dies mid-answer loses nothing.
:class:`AnswerRecords` reads the records back from that store; :class:`RedisAnswerRecords`
keeps settled ones in Redis too, for workers that do not share one database.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import TYPE_CHECKING

from gateway.state.store import AnswerRecord, Store

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("gateway.state")

__all__ = ["AnswerRecord", "AnswerRecords", "RedisAnswerRecords"]


class AnswerRecords:
    """The records in the durable store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def asked(self, record: AnswerRecord) -> None:
        """Keep the question before any back end is asked."""
        await self.store.record_question(record)

    async def settled(self, record: AnswerRecord) -> None:
        await self.store.settle_question(record)

    async def get(self, message_id: str) -> AnswerRecord | None:
        return await self.store.answer_record(message_id)


class RedisAnswerRecords(AnswerRecords):
    """Settled records also in Redis (``key`` + message id, kept ``ttl`` seconds), where every
    worker finds them even when each has a database of its own."""

    def __init__(self, store: Store, redis: Redis, key: str, ttl: float) -> None:
        super().__init__(store)
        self.redis = redis
        self.key = key
        self.ttl = max(1, round(ttl))

    async def settled(self, record: AnswerRecord) -> None:
        await super().settled(record)
        value = json.dumps(asdict(record), ensure_ascii=False)
        await self.redis.set(self.key + record.message_id, value, ex=self.ttl)

    async def get(self, message_id: str) -> AnswerRecord | None:
        value = await self.redis.get(self.key + message_id)
        if value is not None:
            return AnswerRecord(**json.loads(value))
        return await super().get(message_id)
