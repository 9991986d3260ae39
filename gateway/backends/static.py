"""A back end that answers from its configuration: the test double that tests, benchmarks and
demos use in place of a real engine, and a way to pin a fixed reply (for example a maintenance
notice) to a route."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from pydantic import BaseModel, ConfigDict, Field

from gateway.backends.base import Answer, Backend, BackendError, Citation, Delta, Done, Event, Query


class CitationOptions(BaseModel):
    title: str
    url: str = ""
    snippet: str = ""


class StaticOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The reply; ``{question}`` is replaced by the question as received.
    answer: str = ""
    citations: list[CitationOptions] = Field(default_factory=list)
    #: False: reply "not found", so the route's next back end is asked.
    found: bool = True
    #: Fail every request, as an unreachable engine would (retryable).
    fail: bool = False
    #: Streamed in pieces of this many characters …
    chunk_chars: int = 8
    #: … with this pause between them, in seconds.
    chunk_delay: float = 0.0


class StaticBackend(Backend):
    type = "static"
    Options = StaticOptions
    options: StaticOptions

    def _answer(self, query: Query) -> Answer:
        if self.options.fail:
            raise BackendError(f"{self.name}: configured to fail")
        return Answer(
            text=self.options.answer.replace("{question}", query.text),
            citations=[Citation(**c.model_dump()) for c in self.options.citations],
            found=self.options.found,
        )

    async def ask(self, query: Query) -> Answer:
        return self._answer(query)

    async def stream(self, query: Query) -> AsyncIterator[Event]:
        answer = self._answer(query)
        size = max(1, self.options.chunk_chars)
        for start in range(0, len(answer.text), size):
            if start and self.options.chunk_delay:
                await asyncio.sleep(self.options.chunk_delay)
            yield Delta(answer.text[start : start + size])
        yield Done(answer)
