import pytest

from gateway.understanding.correct import CorrectOptions, Corrector


@pytest.mark.parametrize(
    ("typed", "meant", "kind"),
    [
        ("社宝怎么交", "社保怎么交", "homophone"),
        ("身份增丢了怎么办", "身份证丢了怎么办", "fuzzy pinyin"),
        ("明政局在哪里", "民政局在哪里", "fuzzy pinyin"),
        ("公积全怎么提取", "公积金怎么提取", "look-alike"),
    ],
)
def test_slips_are_corrected_and_reported(understand, typed, meant, kind):
    analysis = understand(typed)
    assert analysis.text == meant
    assert analysis.autocorrected
    (correction,) = analysis.corrections
    assert correction.stage == "correct"
    assert correction.reason == kind
    assert typed[correction.start : correction.end] == correction.original
    assert meant[correction.start : correction.end] == correction.replacement


@pytest.mark.parametrize(
    "text",
    [
        "我的手机号是13912345678，社宝怎么交",
        "社宝APP怎么登录",
    ],
)
def test_numbers_and_latin_words_are_never_touched(understand, text):
    corrected = understand(text).text
    assert corrected == text.replace("社宝", "社保").replace("，", ",")


def test_probable_person_names_are_left_alone(understand):
    # 李明 sounds like 黎明 (dawn), a common word: a surname and a given name are kept.
    assert understand("李明的户口在老家").text == "李明的户口在老家"
    assert understand("我叫张伟，想问一下社保怎么交").corrections == []


def test_correct_questions_come_out_unchanged(understand):
    for text in ["交社保一个月多少钱", "医保卡可以给家人用吗", "外国人可以买医保吗"]:
        analysis = understand(text)
        assert analysis.text == text and not analysis.changed


def test_no_correction_takes_a_character_out_of_a_word_typed_whole(understand):
    # 补/一个: 不一 would be a word, but only by taking 一 out of 一个.
    assert understand("补一个户口本要多少钱").corrections == []
    assert understand("身份增丢了怎么补一个").text == "身份证丢了怎么补一个"
    # Into a service word a slip may take half of one (居住正/在哪: 正在; 申清/末: 清末).
    assert understand("社保卡居住正在哪办").text == "社保卡居住证在哪办"
    assert understand("社保怎么申清末成年人办身份证").text == "社保怎么申请未成年人办身份证"


def test_ask_as_typed_skips_correction(understand):
    analysis = understand("社宝怎么交", correct=False)
    assert analysis.text == "社宝怎么交"
    assert not analysis.autocorrected and analysis.corrections == []


def test_the_threshold_decides(stage):
    lexicon = stage("correct").corrector.lexicon
    strict = Corrector(lexicon, CorrectOptions(threshold=100))
    assert strict.correct("社宝怎么交") == ("社宝怎么交", [])
    default = Corrector(lexicon, CorrectOptions())
    assert default.correct("社宝怎么交")[0] == "社保怎么交"


def test_correction_is_a_fixed_point(stage):
    corrector = stage("correct").corrector
    once, _ = corrector.correct("医疗报险报消需要什么才料")
    assert once == "医疗保险报销需要什么材料"
    assert corrector.correct(once) == (once, [])
