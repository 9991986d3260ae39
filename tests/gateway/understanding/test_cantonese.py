from gateway.understanding.cantonese import CANTONESE_WEIGHT, cantonese_map
from gateway.understanding.lexicon import data_rows


def test_the_word_map_is_a_curated_data_file_of_at_least_150_entries():
    rows = data_rows("cantonese.tsv")
    assert len(rows) >= 150
    assert all(len(row) == 3 and float(row[2]) in {0.5, 1.0} for row in rows)
    mapping = {row[0]: row[1] for row in rows}
    for cantonese, mandarin in {
        "點樣": "怎样",
        "唔": "不",
        "冇": "没有",
        "喺": "在",
        "嘅": "的",
        "咗": "了",
        "佢": "他",
        "邊度": "哪里",
        "幾時": "什么时候",
        "攞": "领",
        "畀": "给",
        "係": "是",
        "咩": "什么",
    }.items():
        assert mapping[cantonese] == mandarin


def test_no_mandarin_side_reads_as_cantonese():
    # Otherwise a translated question would be translated again (and the pipeline would not be
    # idempotent).
    for _, mandarin, _ in data_rows("cantonese.tsv"):
        assert cantonese_map().weight(mandarin) < CANTONESE_WEIGHT, mandarin


def test_cantonese_becomes_mandarin_in_both_scripts(understand):
    assert understand("佢喺邊度攞咗身份證").text == "他在哪里领了身份证"
    assert understand("佢喺边度攞咗身份证").text == "他在哪里领了身份证"


def test_longest_match_and_mandarin_words_kept_whole(understand):
    assert understand("我哋有冇得攞").text == "我们能不能领"  # 有冇得, not 有 + 冇 + 得
    assert understand("我哋嘅關係證明點樣開").text == "我们的关系证明怎样开"  # 關係 stays


def test_a_cantonese_word_that_cuts_a_common_mandarin_word_is_read_as_mandarin(understand):
    # 点补 (how to replace) would take 补 out of 补贴 (allowance, 586 in jieba's dictionary).
    analysis = understand("政府是不是每年给老人发点补贴")
    assert analysis.language == "zh" and analysis.text == "政府是不是每年给老人发点补贴"
    assert understand("社保卡点补").text == "社保卡怎么补"
    # 办公 is no Mandarin word here: its 公 belongs to the curated term 公积金.
    assert understand("点办公积金提取").text == "怎么办公积金提取"


def test_each_translated_word_is_reported(understand):
    analysis = understand("佢冇身份證點辦")
    assert [(c.original, c.replacement, c.reason) for c in analysis.corrections] == [
        ("佢", "他", "cantonese"),
        ("冇", "没有", "cantonese"),
        ("点办", "怎么办", "cantonese"),
    ]
    assert not analysis.autocorrected  # a translation, not a correction: no did_you_mean
