"""The built-in FAQ back end: answers from the knowledge base, with the entry's source cited.

Retrieval is hybrid (gateway/knowledge/index.py): a question in any language finds the Chinese
entries directly, and the gateway's translation rules bring the answer back. When no curated
entry is sure enough, the best passage of the documents is the answer, cited by its document's
title, section and URL.
"""

from __future__ import annotations

from typing import Literal

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field

from gateway.backends.base import Answer, Backend, Citation, Health, Query
from gateway.knowledge.documents import Passage
from gateway.knowledge.index import FaqIndex, Hit, PassageHit
from gateway.text import markdown_to_text

SNIPPET_CHARS = 120


class KnowledgeOptions(BaseModel):
    """What the back ends that retrieve from the knowledge base (``faq``, ``rag``) share."""

    model_config = ConfigDict(extra="forbid")

    #: Folders or .jsonl files; empty: the gateway's knowledge base (``[knowledge] paths``).
    knowledge_base: list[str] = Field(default_factory=list)
    #: Categories written for foreign residents (the sample's ``foreigners``): for a question
    #: in a language other than Chinese their entries are favoured over the residents' own
    #: (外国人住宿登记 over 居住登记, 外国人居留许可 over 居住证).
    foreign_resident_categories: list[str] = Field(default_factory=lambda: ["foreigners"])

    def favoured(self, query: Query) -> list[str]:
        """The categories whose entries ``query`` favours: a foreign resident's own."""
        return self.foreign_resident_categories if query.language != "zh" else []


class FaqOptions(KnowledgeOptions):
    #: Below this confidence (0–1) the best entry is not taken as the answer.
    min_confidence: float = Field(0.6, ge=0, le=1)
    #: How much words found only in an answer count, against those in its question.
    answer_weight: float = Field(0.3, ge=0)
    #: Related questions offered with an answer, or instead of one.
    suggestions: int = Field(3, ge=0, le=10)
    #: ``hybrid`` (BM25 and dense vectors fused), ``bm25`` or ``dense``.
    retrieval: Literal["hybrid", "bm25", "dense"] = "hybrid"


class FaqBackend(Backend):
    type = "faq"
    Options = FaqOptions
    options: FaqOptions
    reads_every_language = True
    _index: FaqIndex | None = None

    async def startup(self) -> None:
        self._index = await self.services.index(self.options.knowledge_base or None)

    async def health(self) -> Health:
        if self._index is None:
            return Health(ok=False, detail="the knowledge base is not loaded yet")
        return Health(ok=True, detail=f"{len(self._index)} entries")

    async def ask(self, query: Query) -> Answer:
        # Looked up each time: a knowledge-base reload swaps the index (gateway/services.py).
        self._index = index = await self.services.index(self.options.knowledge_base or None)
        # In a thread: embedding the question takes the CPU for some milliseconds.
        hits, passages = await anyio.to_thread.run_sync(self._search, index, query)
        sure = self.options.min_confidence
        # Entries and passages are ranked together by meaning: the closer one answers.
        if (
            passages
            and passages[0].confidence >= sure
            and (not hits or hits[0].confidence < sure or passages[0].score > hits[0].similarity)
        ):
            questions = [hit.entry.question for hit in hits[: self.options.suggestions]]
            return _passage_answer(passages[0], questions)
        if not hits or hits[0].confidence < sure:
            return Answer(
                text="",
                found=False,
                suggestions=[hit.entry.question for hit in hits[: self.options.suggestions]],
            )
        best, related = hits[0], hits[1:]
        entry = best.entry
        return Answer(
            text=entry.answer,
            citations=[
                Citation(
                    title=entry.source.title,
                    url=entry.source.url,
                    snippet=_snippet(entry.answer),
                    score=round(best.confidence, 3),
                )
            ],
            suggestions=[hit.entry.question for hit in related],
            entry_id=entry.id,
            category=entry.category,
            metadata={"score": round(best.score, 3), "confidence": round(best.confidence, 3)},
        )

    def _search(self, index: FaqIndex, query: Query) -> tuple[list[Hit], list[PassageHit]]:
        hits = index.search(
            query.text,
            limit=self.options.suggestions + 1,
            answer_weight=self.options.answer_weight,
            mode=self.options.retrieval,
            favoured=self.options.favoured(query),
        )
        passages = [] if self.options.retrieval == "bm25" else index.search_passages(query.text, 1)
        return hits, passages


def _passage_answer(hit: PassageHit, suggestions: list[str]) -> Answer:
    passage = hit.passage
    title = _passage_title(passage)
    return Answer(
        text=passage.text,
        citations=[
            Citation(
                title=title,
                url=passage.url,
                snippet=_snippet(passage.text),
                score=round(hit.confidence, 3),
            )
        ],
        suggestions=suggestions,
        category=passage.category,
        metadata={"passage": passage.id, "confidence": round(hit.confidence, 3)},
    )


def _passage_title(passage: Passage) -> str:
    """What a citation of a passage is called: its document, and its section."""
    return f"{passage.title} · {passage.section}" if passage.section else passage.title


def _snippet(markdown: str) -> str:
    text = " ".join(markdown_to_text(markdown).split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
