"""The development set's targets (docs/quality.md): bench/quality.py prints the full table."""

from bench.quality import TARGETS, evaluate, load_cases


def test_the_development_set_is_large_enough_and_covers_every_category():
    cases = load_cases()
    counts = {}
    for case in cases:
        counts[case.category] = counts.get(case.category, 0) + 1
    assert len(cases) >= 400
    assert counts["unchanged"] >= 100
    assert set(counts) == {
        "language",
        "traditional",
        "cantonese_traditional",
        "cantonese_simplified",
        "pinyin_spaced",
        "pinyin_unspaced",
        "typo_homophone",
        "typo_fuzzy",
        "typo_lookalike",
        "unchanged",
    }
    one_or_two_words = [c for c in cases if c.category == "language" and len(c.text.split()) <= 2]
    assert len(one_or_two_words) >= 30


def test_quality_targets_are_met(pipeline):
    rows, failures = evaluate(pipeline, load_cases())
    for name, (sign, target) in TARGETS.items():
        rate = rows[name]["all"].rate()
        assert (rate >= target) if sign == ">=" else (rate <= target), (name, rate, failures)
