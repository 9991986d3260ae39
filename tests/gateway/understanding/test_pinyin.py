import pytest

from gateway.understanding.pinyin import split


def test_spaces_and_apostrophes_are_syllable_boundaries():
    (piece,) = split("xi'an shi")
    assert piece.letters == "xianshi"
    assert piece.boundaries == {0, 2, 4}


def test_tone_marks_and_tone_numbers_are_read_and_dropped():
    (marked,) = split("shè bǎo")
    (numbered,) = split("she4bao3")
    assert marked.letters == numbered.letters == "shebao"
    assert marked.toned and numbered.toned


@pytest.mark.parametrize("typed", ["lü", "lv", "lu:", "LÜ"])
def test_u_umlaut_may_be_written_v(typed):
    (piece,) = split(typed)
    assert piece.letters == "lv"


def test_numbers_and_punctuation_stay_as_they_are():
    pieces = split("shebao 2024 nian?")
    assert [p.literal or p.letters for p in pieces] == ["shebao", "2024", "nian", "?"]


def test_text_with_other_letters_is_not_pinyin():
    assert split("shebao 社保") is None


@pytest.mark.parametrize(
    ("typed", "characters"),
    [
        ("shebao zenme jiao", "社保怎么交"),
        ("shebaozenmejiao", "社保怎么交"),
        ("gōng jī jīn tí qǔ", "公积金提取"),
        ("hu4 kou3 ben3", "户口本"),
        ("lu shi zi xun", "律师咨询"),
        ("nvershangxue", "女儿上学"),
        ("xi'an", "西安"),
        ("fang'an", "方案"),
        ("Shenfenzheng Zai Nali Ban", "身份证在哪里办"),
    ],
)
def test_pinyin_becomes_characters(understand, typed, characters):
    analysis = understand(typed)
    assert analysis.language == "pinyin"
    assert analysis.text == characters
    assert analysis.autocorrected


def test_the_conversion_is_reported_with_an_alternative(understand):
    analysis = understand("juzhuzheng zai nali ban")
    (correction,) = analysis.corrections
    assert (correction.stage, correction.reason) == ("pinyin", "pinyin")
    assert correction.original == "juzhuzheng zai nali ban"
    assert correction.replacement == analysis.text
    assert correction.alternative and correction.alternative != correction.replacement


def test_numbers_in_pinyin_questions_are_kept(understand):
    assert understand("shebao 2024 nian zenme jiao").text == "社保2024年怎么交"


def test_ask_as_typed_keeps_the_pinyin(understand):
    analysis = understand("shebao zenme jiao", correct=False)
    assert analysis.language == "pinyin"
    assert analysis.text == "shebao zenme jiao"
    assert not analysis.autocorrected


def test_the_knowledge_base_words_are_boosted(stage):
    from gateway.understanding.lexicon import base_lexicon
    from gateway.understanding.pinyin import Decoder

    taught = stage("pinyin").decoder
    untaught = Decoder(base_lexicon())
    # jieba's frequencies prefer 拘留 (detention) and 剿匪 (bandit suppression); the knowledge
    # base asks about 居留 (residence) and 缴费 (paying fees).
    assert untaught.convert("juliu").text == "拘留"
    assert taught.convert("juliu").text == "居留"
    assert taught.convert("jiaofei").text == "缴费"
