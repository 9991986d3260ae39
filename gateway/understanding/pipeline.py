"""The understanding pipeline: the configured stages, run in order.

Analyses of recent questions are kept (``[understanding] cache_size``, least recently asked out
first): residents ask the same questions again and again, and a question's analysis depends
only on its text, the UI locale, whether it may be corrected and what the stages have learnt —
so the cache is emptied whenever they learn (a knowledge-base reload).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace

from cachetools import LRUCache

from gateway import extensions, metrics
from gateway.config import Settings, UnderstandingConfig
from gateway.knowledge.entries import KnowledgeBase
from gateway.understanding.base import Analysis, Stage, Step
from gateway.understanding.sanitize import readable

ASKED_AS_TYPED = "skipped: the resident asked for the question as typed"


class Pipeline:
    def __init__(self, stages: Sequence[Stage], cache_size: int = 0) -> None:
        self.stages = list(stages)
        self.cache_size = cache_size
        #: (text, locale, correct) → the analysis and the stages that changed the text.
        self._cache: LRUCache[tuple[str, str, bool], tuple[Analysis, tuple[str, ...]]] = LRUCache(
            max(1, cache_size)
        )
        self._cache_lock = threading.Lock()
        if any(stage.uses_lexicon for stage in self.stages):
            from gateway.understanding.lexicon import base_lexicon

            self._teach(base_lexicon())

    def with_cache(self, size: int) -> Pipeline:
        """The same stages (as taught already) with a cache of analyses of their own."""
        other = copy.copy(self)
        other.cache_size = size
        other._cache = LRUCache(max(1, size))
        other._cache_lock = threading.Lock()
        return other

    @property
    def cached(self) -> int:
        """How many analyses are kept now."""
        return len(self._cache)

    def _teach(self, lexicon) -> None:
        for stage in self.stages:
            if stage.uses_lexicon:
                stage.learn(lexicon)
        with self._cache_lock:
            self._cache.clear()

    def learn(self, knowledge: KnowledgeBase) -> None:
        """Add the knowledge base's words and phrasing to what the stages know."""
        if any(stage.uses_lexicon for stage in self.stages):
            from gateway.understanding.lexicon import base_lexicon

            lexicon = knowledge.derived(
                "understanding.lexicon",
                lambda base: base_lexicon().with_knowledge(
                    knowledge_texts(base), knowledge_questions(base)
                ),
            )
            self._teach(lexicon)

    @classmethod
    def from_config(cls, config: UnderstandingConfig) -> Pipeline:
        stages = [
            extensions.create(
                "gateway.stages",
                name,
                Stage,
                config.options.get(name),
                None,
                label=f"understanding stage {name!r}",
            )
            for name in config.stages
        ]
        return cls(stages, config.cache_size)

    def run(self, text: str, locale: str = "zh-CN", correct: bool = True) -> Analysis:
        """Understand ``text``; with ``correct=False`` the correcting stages are skipped. The
        analysis's ``original`` is ``text`` made :func:`readable`."""
        text = readable(text)
        if not self.cache_size:
            return self._run(text, locale, correct)[0]
        key = (text, locale, correct)
        with self._cache_lock:
            kept = self._cache.get(key)
        if kept is not None:
            metrics.UNDERSTANDING_CACHE.labels("hit").inc()
            analysis, changed_by = kept
            for name in changed_by:
                metrics.CORRECTIONS.labels(name).inc()
            return _copy(analysis)
        metrics.UNDERSTANDING_CACHE.labels("miss").inc()
        analysis, changed_by = self._run(text, locale, correct)
        with self._cache_lock:
            self._cache[key] = (_copy(analysis), changed_by)
        return analysis

    def _run(
        self, text: str, locale: str, correct: bool, observe: bool = True
    ) -> tuple[Analysis, tuple[str, ...]]:
        analysis = Analysis(original=text, text=text, locale=locale, correct=correct)
        changed_by: list[str] = []
        for stage in self.stages:
            before, steps = analysis.text, len(analysis.trace)
            if stage.corrective and not correct:
                analysis.trace.append(Step(stage.name, before, before, ASKED_AS_TYPED))
                continue
            # metrics.stage, without a context manager's cost on the hot path.
            started = time.perf_counter()
            try:
                stage.apply(analysis)
            finally:
                if observe:
                    metrics.stage_histogram(stage.name).observe(time.perf_counter() - started)
            if len(analysis.trace) == steps:  # the stage had nothing to do: say so in the trace
                analysis.trace.append(Step(stage.name, before, before))
            if analysis.text != before:
                if observe:
                    metrics.CORRECTIONS.labels(stage.name).inc()
                changed_by.append(stage.name)
                analysis.autocorrected |= stage.corrective
        return analysis, tuple(changed_by)

    def changed_questions(
        self, knowledge: KnowledgeBase, limit: int | None = None
    ) -> list[Analysis]:
        """The analyses of the knowledge base's questions and phrasings (the first ``limit``
        of them, or all) whose words a stage changes (a correction, a Cantonese or pinyin
        conversion; not normalizing or script).

        Such a question, pressed as a suggestion, is answered as something else, or shown a
        "did you mean" for the service's own words. Worked out once per base, limit and set of
        stages and options, off the metrics: residents did not ask these."""
        signature = tuple((stage.name, repr(stage.options)) for stage in self.stages)

        def check(base: KnowledgeBase) -> list[Analysis]:
            analyses = (
                self._run(question, "zh-CN", True, observe=False)[0]
                for question in knowledge_questions(base)[:limit]
            )
            return [analysis for analysis in analyses if analysis.corrections]

        return knowledge.derived(f"understanding.changed_questions {signature!r} {limit}", check)


def _copy(analysis: Analysis) -> Analysis:
    """A copy whose lists and notes the caller may change without touching the cached one."""
    return replace(
        analysis,
        trace=list(analysis.trace),
        corrections=list(analysis.corrections),
        notes=dict(analysis.notes),
    )


def describe_change(analysis: Analysis) -> str:
    """``'question' → 'what is sent on' (the stages' corrections)``, for operators."""
    reasons = ", ".join(f"{c.original}→{c.replacement} ({c.reason})" for c in analysis.corrections)
    return f"{analysis.original!r} → {analysis.text!r} ({reasons})"


def pipeline_for(settings: Settings) -> Pipeline:
    """The configured pipeline, taught the configured knowledge base (read here, at once): for
    tools and benchmarks; the gateway teaches its pipeline the index's copy at startup."""
    from gateway.knowledge import entries
    from gateway.services import Services

    pipeline = Pipeline.from_config(settings.understanding)
    pipeline.learn(entries.load(Services(settings).knowledge_paths))
    return pipeline


def knowledge_texts(knowledge: KnowledgeBase) -> Iterable[str]:
    """The knowledge base's Chinese text: service names, questions, phrasings and answers."""
    for category in knowledge.categories:
        yield category.names.get("zh-CN", "")
    for entry in knowledge.entries:
        yield entry.question
        yield from entry.phrasings
        yield entry.answer


def knowledge_questions(knowledge: KnowledgeBase) -> list[str]:
    """The knowledge base's questions and phrasings, each once, in order."""
    texts = (text for entry in knowledge.entries for text in (entry.question, *entry.phrasings))
    return list(dict.fromkeys(texts))
