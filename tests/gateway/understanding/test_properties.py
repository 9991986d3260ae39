"""Properties of the whole pipeline on arbitrary text (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import GatewayError
from gateway.understanding.base import Analysis

# What residents type, densely: Chinese (Simplified, Traditional, Cantonese), pinyin syllables,
# Latin words, digits, punctuation, spaces, full-width forms and invisible characters.
PIECES = st.sampled_from(
    [
        *"社保卡公积金居住证护照办理怎么在哪里吗的了给身份正宝全薄",
        *"點樣邊度佢喺嘅咗冇唔係關係證護",
        "shebao",
        "zen",
        "me",
        "jiao",
        "lv",
        "xi'an",
        "women",
        "visa",
        "How",
        "do",
        "I",
        "saya",
        "boleh",
        "ā",
        "3",
        "12345",
        "13912345678",
        " ",
        "  ",
        "，",
        "？",
        "ＡＰＰ",
        "\u200b",
        "\u3000",
        "ｓｈｅｂａｏ",
        "李明",
        "https://e.org",
        "비자",
        "ビザ",
        "виза",
    ]
)
MIXED = st.lists(PIECES, min_size=1, max_size=12).map("".join)
ANY_TEXT = st.text(max_size=60)
LOCALES = st.sampled_from(["zh-CN", "zh-HK", "en", "ms", "ja"])
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def run(pipeline, text: str, locale: str) -> Analysis | None:
    try:
        return pipeline.run(text, locale)
    except GatewayError:  # empty, binary or too long: refused with a translated message
        return None


@SETTINGS
@given(text=st.one_of(ANY_TEXT, MIXED), locale=LOCALES)
def test_never_raises_anything_but_a_gateway_error(pipeline, text, locale):
    run(pipeline, text, locale)


@SETTINGS
@given(text=st.one_of(ANY_TEXT, MIXED), locale=LOCALES)
def test_idempotent_on_its_own_output(pipeline, text, locale):
    first = run(pipeline, text, locale)
    if first is None:
        return
    second = run(pipeline, first.text, locale)
    assert second is not None
    assert second.text == first.text
    assert second.corrections == [] or all(c.reason == "cantonese" for c in second.corrections)


@SETTINGS
@given(text=st.one_of(ANY_TEXT, MIXED), locale=LOCALES)
def test_never_changes_text_it_reports_as_unchanged(pipeline, text, locale):
    analysis = run(pipeline, text, locale)
    if analysis is None:
        return
    current = analysis.original
    for step in analysis.trace:
        assert step.before == current
        if not step.changed:
            assert step.after == step.before
        current = step.after
    assert current == analysis.text
    if not analysis.changed:
        assert analysis.text == analysis.original
        assert analysis.corrections == [] and not analysis.autocorrected
