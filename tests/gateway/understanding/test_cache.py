"""The cache of recent analyses: the same answer as analysing anew, bounded, never shared."""

from __future__ import annotations

from prometheus_client import REGISTRY

from gateway.config import UnderstandingConfig
from gateway.knowledge import entries
from gateway.understanding.base import Analysis
from gateway.understanding.pipeline import Pipeline


def cache_count(result: str) -> float:
    return REGISTRY.get_sample_value("gateway_understanding_cache_total", {"result": result}) or 0


def corrections(stage: str) -> float:
    return REGISTRY.get_sample_value("gateway_corrections_total", {"stage": stage}) or 0


def cached(pipeline: Pipeline, size: int) -> Pipeline:
    """The session's pipeline (its stages taught already) with a cache of its own of ``size``
    (a new ``Pipeline`` would teach the shared stages the base lexicon again)."""
    return pipeline.with_cache(size)


def test_a_cached_analysis_equals_a_fresh_one(pipeline: Pipeline) -> None:
    fresh = cached(pipeline, 0)
    subject = cached(pipeline, 16)
    for text, locale, correct in [
        ("居住正怎么办理", "zh-CN", True),
        ("居住正怎么办理", "zh-CN", False),
        ("shebao zenme jiao", "zh-CN", True),
        ("點樣申請居住證", "zh-HK", True),
        ("How do I renew my visa?", "en", True),
    ]:
        first = subject.run(text, locale, correct)
        again = subject.run(text, locale, correct)
        assert again == first == fresh.run(text, locale, correct)


def test_hits_and_misses_are_counted_and_corrections_still_are(pipeline: Pipeline) -> None:
    subject = cached(pipeline, 16)
    hits, misses, typos = cache_count("hit"), cache_count("miss"), corrections("correct")
    first = subject.run("居住正怎么办理")
    assert first.text == "居住证怎么办理"
    subject.run("居住正怎么办理")
    assert cache_count("miss") == misses + 1
    assert cache_count("hit") == hits + 1
    # Each question the typo stage changed is counted, from the cache too.
    assert corrections("correct") == typos + 2


def test_the_locale_and_asking_as_typed_are_part_of_the_key(pipeline: Pipeline) -> None:
    subject = cached(pipeline, 16)
    assert subject.run("居住正怎么办理", correct=True).text == "居住证怎么办理"
    assert subject.run("居住正怎么办理", correct=False).text == "居住正怎么办理"
    # Text without letters is in the UI language.
    assert subject.run("12345", "en").language == "en"
    assert subject.run("12345", "zh-CN").language == "zh"


def test_callers_get_their_own_copy(pipeline: Pipeline) -> None:
    subject = cached(pipeline, 16)
    first = subject.run("居住正怎么办理")
    first.trace.clear()
    first.notes["changed by a caller"] = True
    again = subject.run("居住正怎么办理")
    assert again.trace and "changed by a caller" not in again.notes


def test_the_cache_is_bounded_least_recent_out(pipeline: Pipeline) -> None:
    subject = cached(pipeline, 2)
    subject.run("社保")
    subject.run("医保")
    subject.run("社保")  # now the most recent
    subject.run("公积金")  # pushes out 医保
    misses = cache_count("miss")
    subject.run("社保")
    assert cache_count("miss") == misses
    subject.run("医保")
    assert cache_count("miss") == misses + 1
    assert subject.cached == 2


def test_learning_empties_the_cache() -> None:
    # Stages of its own: the session's pipeline is shared with other tests.
    config = UnderstandingConfig(stages=["sanitize", "normalize", "correct"], cache_size=16)
    subject = Pipeline.from_config(config)
    subject.run("社保")
    assert subject.cached
    subject.learn(entries.load([entries.bundled_sample()]))  # as a reload does
    assert not subject.cached


def test_size_zero_keeps_nothing(pipeline: Pipeline) -> None:
    subject = cached(pipeline, 0)
    misses = cache_count("miss")
    subject.run("社保")
    subject.run("社保")
    assert not subject.cached and cache_count("miss") == misses


def test_remembered_lookups_change_no_analysis(pipeline: Pipeline) -> None:
    """Stages remember lookups from question to question (the corrector's windows and words,
    the Cantonese map's last reading): every analysis of the development set must be the same
    with them as after ``forget`` drops them, in either UI locale."""
    from bench.quality import load_cases

    subject = cached(pipeline, 0)
    forgetting = [stage for stage in subject.stages if hasattr(stage, "forget")]
    assert {stage.name for stage in forgetting} >= {"correct", "cantonese"}

    def full(analysis: Analysis) -> tuple:
        return analysis.to_dict(), analysis.notes

    texts = [case.text for case in load_cases()]
    for locale in ("zh-CN", "en"):
        remembered = [full(subject.run(text, locale)) for text in texts]
        fresh = []
        for text in texts:
            for stage in forgetting:
                stage.forget()
            fresh.append(full(subject.run(text, locale)))
        assert remembered == fresh
