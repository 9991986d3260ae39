"""Grounded answers: the built-in FAQ retrieval finds the passages, an OpenAI-compatible model
writes the answer from them, citing each as ``[n]``.

The hallucination guard: nothing the model writes reaches the resident before it has cited a
retrieved passage. The text is held back until the first valid ``[n]``, then streamed. An
answer that cites no retrieved passage is dropped: the best FAQ answer is given instead when
retrieval is sure enough of it, otherwise "not found" (and the route's next back end is asked).
Citations are the passages the answer cites, in the order of their numbers.

Retrieval is the FAQ back end's, hybrid (gateway/knowledge/index.py): the model is given the
best entries and the best passages of the documents, found by meaning in the resident's own
language.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence

import anyio.to_thread
from pydantic import Field

from gateway.backends.base import Answer, Backend, Citation, Delta, Done, Event, Health, Query
from gateway.backends.faq import KnowledgeOptions, _passage_title, _snippet
from gateway.backends.openai import OpenAIBackend, OpenAIOptions
from gateway.knowledge.index import FaqIndex, Hit, PassageHit
from gateway.text import markdown_to_text

CITATION = re.compile(r"\[(\d{1,2})\]")

DEFAULT_PROMPT = (
    "你是政务服务智能助手。只根据下面编号的资料回答居民的问题，"
    "不要使用资料以外的知识。\n"
    "每一句依据资料的话后面用方括号标出资料编号，例如 [1]。"
    "资料中没有答案时，只回答“资料中没有找到相关内容”，不要编造。\n"
    "回答简洁、通俗，使用简体中文。\n\n资料：\n{passages}"
)


class RagOptions(KnowledgeOptions):
    #: The model: the options of an ``openai`` back end (``base_url``, ``model``,
    #: ``api_key_env`` …) as a table.
    llm: OpenAIOptions
    #: Passages given to the model.
    passages: int = Field(4, ge=1, le=10)
    #: Passages less sure than this (0–1, FAQ confidence) are not given to the model.
    min_passage_confidence: float = Field(0.3, ge=0, le=1)
    #: When the model's answer is not grounded, the best FAQ entry is answered instead if
    #: retrieval is at least this sure of it.
    fallback_confidence: float = Field(0.6, ge=0, le=1)
    #: The instructions; ``{passages}`` is replaced by the numbered passages.
    prompt: str = DEFAULT_PROMPT


class RagBackend(Backend):
    type = "rag"
    uses_language_model = True
    Options = RagOptions
    options: RagOptions
    reads_every_language = True
    _index: FaqIndex | None = None
    _llm: OpenAIBackend | None = None

    async def startup(self) -> None:
        self._index = await self.services.index(self.options.knowledge_base or None)
        if self._llm is None:
            self._llm = OpenAIBackend(f"{self.name}.llm", self.options.llm, self.services)
            await self._llm.startup()

    async def aclose(self) -> None:
        if self._llm is not None:
            await self._llm.aclose()
            self._llm = None

    async def health(self) -> Health:
        if self._index is None or self._llm is None:
            return Health(ok=False, detail="not started")
        return await self._llm.health()

    async def stream(self, query: Query) -> AsyncIterator[Event]:
        if self._index is None or self._llm is None:
            await self.startup()
        assert self._llm is not None
        # Looked up each time: a knowledge-base reload swaps the index (gateway/services.py).
        self._index = await self.services.index(self.options.knowledge_base or None)
        hits, found = await anyio.to_thread.run_sync(self._search, self._index, query)
        sure = self.options.min_passage_confidence
        ranked: list[Hit | PassageHit] = [*hits, *found]
        ranked.sort(key=lambda hit: -hit.confidence)
        passages = [hit for hit in ranked if hit.confidence >= sure][: self.options.passages]
        if not passages:
            yield Done(Answer(text="", found=False, suggestions=_questions(hits)))
            return
        system = self.options.prompt.replace("{passages}", _numbered(passages))
        messages = self._llm.messages(query, system_prompt=system)
        held: list[str] = []
        grounded = False
        text = ""
        async for event in self._llm.complete_stream(messages):
            if isinstance(event, Delta):
                text += event.text
                if grounded:
                    yield event
                elif _cited(text, len(passages)):
                    grounded = True
                    yield Delta("".join(held) + event.text)
                else:
                    held.append(event.text)
            elif isinstance(event, Done):
                text = event.answer.text
        cited = _cited(text, len(passages))
        if not cited:
            yield Done(self._fallback(hits, text))
            return
        sources = [passages[number - 1] for number in cited]
        first = sources[0]
        yield Done(
            Answer(
                text=text,
                citations=[_citation(number, passages[number - 1]) for number in cited],
                suggestions=_questions([hit for hit in hits if hit not in sources]),
                entry_id=first.entry.id if isinstance(first, Hit) else None,
                category=first.entry.category if isinstance(first, Hit) else first.passage.category,
                metadata={"grounded": True, "passages": len(passages)},
            )
        )

    def _search(self, index: FaqIndex, query: Query) -> tuple[list[Hit], list[PassageHit]]:
        limit = self.options.passages
        hits = index.search(query.text, limit=limit, favoured=self.options.favoured(query))
        return hits, index.search_passages(query.text, limit)

    def _fallback(self, hits: Sequence[Hit], ungrounded: str) -> Answer:
        best = hits[0] if hits else None
        metadata = {"grounded": False, "dropped": markdown_to_text(ungrounded)[:200]}
        if best is None or best.confidence < self.options.fallback_confidence:
            return Answer(text="", found=False, suggestions=_questions(hits), metadata=metadata)
        entry = best.entry
        return Answer(
            text=entry.answer,
            citations=[
                Citation(
                    entry.source.title,
                    entry.source.url,
                    _snippet(entry.answer),
                    round(best.confidence, 3),
                )
            ],
            suggestions=_questions(hits[1:]),
            entry_id=entry.id,
            category=entry.category,
            metadata=metadata,
        )


def _numbered(passages: Sequence[Hit | PassageHit]) -> str:
    return "\n\n".join(
        f"[{number}] {hit.entry.question}\n{markdown_to_text(hit.entry.answer)}"
        if isinstance(hit, Hit)
        else f"[{number}] {_passage_title(hit.passage)}\n{markdown_to_text(hit.passage.text)}"
        for number, hit in enumerate(passages, start=1)
    )


def _cited(text: str, count: int) -> list[int]:
    """The valid passage numbers ``text`` cites, in order of number."""
    return sorted({n for n in map(int, CITATION.findall(text)) if 1 <= n <= count})


def _citation(number: int, hit: Hit | PassageHit) -> Citation:
    if isinstance(hit, PassageHit):
        passage = hit.passage
        return Citation(
            title=f"[{number}] {_passage_title(passage)}",
            url=passage.url,
            snippet=_snippet(passage.text),
            score=round(hit.confidence, 3),
        )
    entry = hit.entry
    return Citation(
        title=f"[{number}] {entry.source.title}",
        url=entry.source.url,
        snippet=_snippet(entry.answer),
        score=round(hit.confidence, 3),
    )


def _questions(hits: Sequence[Hit | PassageHit]) -> list[str]:
    return [hit.entry.question for hit in hits if isinstance(hit, Hit)][:3]
