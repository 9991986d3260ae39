import pytest

from gateway.safety.pii import LABELS, id_check_digit, luhn_valid, mask


def resident_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def card(prefix: str, length: int = 16) -> str:
    body = prefix.ljust(length - 1, "0")
    for last in "0123456789":
        if luhn_valid(body + last):
            return body + last
    raise AssertionError


def test_check_digit_follows_gb11643():
    # The worked example of GB 11643-1999.
    assert id_check_digit("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"我的身份证是{resident_id('11010519491231002')}", "resident_id"),
        (f"身份证{resident_id('44030619900101123').lower()}补办", "resident_id"),
        ("老身份证号 110105491231002 还能用吗", "resident_id"),
        ("手机13812345678能收到验证码吗", "mobile"),
        ("电话 +86 139 1234 5678", "mobile"),
        ("座机010-62345678", "landline"),
        ("打(0755)23456789问问", "landline"),
        (f"银行卡 {card('622202')} 挂失", "bank_card"),
        (f"卡号{card('6217', 19)}", "bank_card"),
        ("my email is wang.li@example.com", "email"),
        ("护照号E12345678过期了", "passport"),
        ("passport no: AB1234567", "passport"),
    ],
)
def test_personal_numbers_are_masked(text, kind):
    masked = mask(text)
    assert masked.kinds == [kind]
    assert LABELS[kind] in masked.text
    digits_left = "".join(ch for ch in masked.text if ch.isdigit())
    assert len(digits_left) < 6, masked.text


@pytest.mark.parametrize(
    "text",
    [
        "拨打12345政务服务便民热线",
        "2026年的社保缴费基数是多少",
        "公积金贷款额度最高60万元",
        "居住证怎么办理",
        "订单号 1234567890123456 怎么查",  # 16 digits failing the Luhn check
        "第3代社保卡",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert mask(text).text == text


def test_a_mistyped_resident_id_is_still_hidden():
    good = resident_id("11010519491231002")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert mask(f"身份证{wrong}").kinds == ["resident_id"]


def test_several_kinds_are_all_reported_in_order():
    text = f"手机13812345678 身份证{resident_id('11010519491231002')} 邮箱a@b.cn"
    assert mask(text).kinds == ["resident_id", "mobile", "email"]
