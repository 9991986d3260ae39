import pytest

from gateway.understanding.script import to_resident_script, to_simplified, variant


def test_traditional_questions_are_sent_on_in_simplified(understand):
    analysis = understand("身份證遺失了怎麼補辦")
    assert analysis.language == "zh-Hant"
    assert analysis.text == "身份证遗失了怎么补办"
    assert analysis.notes["script"] in {"hk", "tw", "t"}


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("裏面", "zh-CN", "hk"),  # Hong Kong writes 裏, Taiwan 裡
        ("裡面", "zh-CN", "tw"),
        ("着數", "zh-CN", "hk"),
        ("公司", "zh-TW", "tw"),
        ("公司", "zh-HK", "hk"),
        ("公司", "zh-CN", "t"),
    ],
)
def test_the_variant_comes_from_the_characters_or_the_ui(text, locale, expected):
    assert variant(text, locale) == expected


def test_the_reply_goes_back_into_the_residents_script():
    assert to_resident_script("请带身份证", "hk") == "請帶身份證"
    assert to_resident_script("线上办理里面", "hk") == "線上辦理裏面"
    assert to_resident_script("线上办理里面", "tw") == "線上辦理裡面"
    assert to_resident_script("请带身份证", None) == "请带身份证"


def test_round_trip_keeps_the_meaning():
    assert to_simplified(to_resident_script("养老金什么时候发", "hk"), "hk") == "养老金什么时候发"
