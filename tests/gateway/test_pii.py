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


# -- every way residents write a number (issue 18) ----------------------------------------------

ID = resident_id("11010519491231002")  # 11010519491231002X


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("身份证 110105 19491231 002X 怎么补", "resident_id"),
        ("身份证1101 0519 4912 3100 2X", "resident_id"),
        ("身份证110105-19491231-002X", "resident_id"),
        ("身份证110105/19491231/002x", "resident_id"),
        ("老身份证 110105 491231 002", "resident_id"),
        ("身份证１１０１０５１９４９１２３１００２Ｘ", "resident_id"),
        ("身份证11010519\u200b491231002X", "resident_id"),
        ("身份证一一〇一〇五一九四九一二三一〇〇二X", "resident_id"),
        ("手机138.1234.5678", "mobile"),
        ("手机1381 234 5678", "mobile"),
        ("手机 1 3 8 1 2 3 4 5 6 7 8 回电", "mobile"),
        ("手机138\u200b1234\u200c5678", "mobile"),
        ("手机１３８－１２３４－５６７８", "mobile"),
        ("手机一三八一二三四五六七八", "mobile"),
        ("手机幺三八幺两三四五六七八", "mobile"),
        ("手机138一二三四5678", "mobile"),
        ("手机138·1234·5678", "mobile"),
        ("手机+86 138 1234 5678", "mobile"),
        ("手机0086-13812345678", "mobile"),
        ("手机138 ١٢٣٤ 5678", "mobile"),  # Arabic-Indic digits
        ("座机0755 6234 5630", "landline"),
        ("座机 +86 10 6234 5632", "landline"),
        ("座机(010)62345678", "landline"),
        ("座机（０２１）６２３４５６７８", "landline"),
        ("座机〇七五五 六二三四五六三〇", "landline"),
        (f"卡号{' '.join(card('622202', 19)[i : i + 4] for i in range(0, 19, 4))}", "bank_card"),
        (f"卡号{'-'.join(card('436742'))}", "bank_card"),
        ("邮箱wang＠example．com", "email"),
        ("邮箱wang@exa\u200bmple.com", "email"),
    ],
)
def test_every_way_of_writing_a_number_is_masked(text, kind):
    masked = mask(text)
    assert masked.kinds == [kind], masked
    assert not any(ch.isdigit() or ch in "〇零一幺二两三四五六七八九" for ch in masked.text), masked


def test_the_label_replaces_the_number_as_typed_invisible_characters_and_all():
    masked = mask("请拨138\u200b1234\u200b5678谢谢")
    assert masked.text == "请拨[手机号码]谢谢"
    assert mask(masked.text).text == masked.text


@pytest.mark.parametrize(
    "text",
    [
        "2026年1月1日起施行",
        "2026-01-01 至 2026-12-31",
        "2026.01.01",
        "补贴3000元，最高一万二千元",
        "每月 3 000 元",
        "12345热线 12366税务热线",
        "95588 客服",
        "400-123-4567 企业客服",
        "国办发〔2026〕12号",
        "保单号 P2026 0001 2345 6789",
        "订单 1234 5678 9012 3456",  # 16 digits failing Luhn
        "编号 2019 2020 2021 2022 2023",
        "IP 192.168.100.200",
        "第一二三条",
        "三十二万零五百元",
        "一二三四五",
        "邮编 518000 深圳",
        "开户满 10 年 第 3 套",
        "时间 13:45 到 17:30",
        "999999999999999999",  # 18 digits, region 99: no ID
        "身份证号码18位，15位旧号",
    ],
)
def test_ordinary_numbers_are_not_masked(text):
    assert mask(text).text == text


def test_a_wrong_check_digit_decides_between_id_and_card():
    body = "11010519491231002"
    wrong = [body + c for c in "0123456789" if c != id_check_digit(body)]
    as_card = [number for number in wrong if luhn_valid(number)]
    assert as_card and all(mask(number).kinds == ["bank_card"] for number in as_card)
    assert all(mask(n).kinds == ["resident_id"] for n in wrong if n not in as_card)


def test_region_codes_are_gb2260_provinces():
    from gateway.safety.pii import PROVINCES

    assert {11, 15, 21, 23, 31, 37, 41, 46, 50, 54, 61, 65, 71, 81, 82, 83} <= PROVINCES
    assert not {10, 16, 20, 24, 30, 38, 40, 47, 49, 55, 60, 66, 70, 72, 80, 84, 91, 99} & PROVINCES
    good = resident_id("44030619900101123")
    bad = resident_id("40030619900101123")
    assert mask(good).kinds == ["resident_id"]
    assert mask(bad).kinds != ["resident_id"]
    # the foreigners' permanent residence ID (2023): 9, a province code, the country code
    assert mask(resident_id("93115619900101123")).kinds == ["resident_id"]


def test_two_numbers_side_by_side_are_both_masked():
    masked = mask("13812345678 13912345678、0755-62345630")
    assert masked.text == "[手机号码] [手机号码]、[电话号码]"
