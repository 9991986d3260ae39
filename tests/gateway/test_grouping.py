"""Unanswered questions grouped by meaning (gateway/knowledge/grouping.py) on the hand-written
paraphrase set bench/data/unanswered_paraphrases.tsv, with the bundled embedder: its vectors are
made once per test session (the module keeps them by text)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bench.grouping import measure, paraphrases
from gateway.config import KnowledgeConfig
from gateway.knowledge import grouping
from gateway.services import embedder_for
from gateway.state.store import Unanswered


@pytest.fixture(scope="session")
def embedded():
    pairs = paraphrases()
    embedder = embedder_for(KnowledgeConfig())
    grouping.vectors(embedder, [question.question for _, question in pairs])
    return pairs, embedder


def test_the_threshold_is_the_lowest_that_keeps_groups_pure(embedded):
    pairs, embedder = embedded
    groups, purity, lowest, completeness = measure(pairs, embedder, grouping.THRESHOLD, 10)
    assert purity >= 0.95 and lowest >= 0.9, "a wrong merge hides a gap"
    assert groups <= 38 and completeness >= 0.5, "50 questions of 18 gaps"
    assert measure(pairs, embedder, grouping.THRESHOLD - 0.01, 10)[1] < 0.95


def test_a_gap_asked_in_chinese_is_one_group_led_by_its_most_asked_phrasing(embedded):
    pairs, embedder = embedded
    dogs = [question for gap, question in pairs if gap == "dog-vaccine"]
    busiest = dogs[1]
    questions = [replace(question, count=4 if question is busiest else 1) for _, question in pairs]
    result = grouping.group(questions, embedder)
    assert result.method == "embedding" and result.by_meaning == len(questions)
    first = result.groups[0]
    assert first.representative.question == busiest.question and first.count >= 5
    assert {m.question for m in first.members} >= {dogs[0].question, busiest.question}
    assert {m.language for m in first.members} <= {"zh-CN", "zh-HK", "en", "ko"}


def test_beyond_the_limit_and_without_an_embedder_only_the_same_text_is_one_group(embedded):
    pairs, embedder = embedded
    now = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    repeats = [
        Unanswered("居住证 怎么办？", "zh", "not_found", 2, now, now, 100),
        Unanswered("居住证怎么办", "zh", "not_found", 1, now, now, 101),
    ]
    questions = [question for _, question in pairs] + repeats
    bounded = grouping.group(questions, embedder, limit=10)
    assert bounded.by_meaning == 10
    texts = [g for g in bounded.groups if g.method == "text"]
    assert sum(len(g.members) for g in texts) == len(questions) - 10
    assert [len(g.members) for g in texts] == [1] * (len(questions) - 10), (
        "the newest two are embedded"
    )
    plain = grouping.group(questions, None)
    assert plain.method == "text" and plain.by_meaning == 0
    assert len(plain.groups) == len(questions) - 1
    assert plain.groups[0].count == 3 and plain.groups[0].representative.id == 100
