import pytest

from gateway.understanding.base import Analysis
from gateway.understanding.normalize import Normalize, normalize


def test_full_width_letters_digits_and_punctuation_become_ascii():
    assert normalize("ＡＰＰ登录不上？电话１２３４５") == "APP登录不上?电话12345"


def test_whitespace_is_folded_and_spaces_between_chinese_characters_dropped():
    assert normalize("  社保\u3000 怎么   交 \t ") == "社保怎么交"
    assert normalize("我想办   work  permit") == "我想办 work permit"


@pytest.mark.parametrize(
    "text",
    [
        "网址是https://zwfw.example.org/guide?id=12&x=3吗",
        "发邮件到help.desk@example.org",
        "办理时间9:00-17:00，费用1,000.50元",
        "面积是50m²，占½",
        "身份证号110101199003071234",
    ],
)
def test_numbers_urls_and_email_addresses_keep_every_character(text):
    out = normalize(text)
    for token in (
        "https://zwfw.example.org/guide?id=12&x=3",
        "help.desk@example.org",
        "9:00-17:00",
        "1,000.50",
        "50m²",
        "½",
        "110101199003071234",
    ):
        if token in text:
            assert token in out


def test_the_stage_records_the_normalized_text():
    analysis = Analysis(original="ＡＢＣ", text="ＡＢＣ")
    Normalize().apply(analysis)
    assert analysis.text == "ABC"
    assert analysis.notes["normalized"] == "ABC"
    assert analysis.trace[-1].changed and analysis.trace[-1].reason
