import pytest

from gateway.understanding.identify import locale_language, scripts


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("비자 연장은 어디서 하나요", "ko"),
        ("在留カードの更新", "ja"),
        ("ต่ออายุวีซ่า", "th"),
        ("ຕໍ່ວີຊາ", "lo"),
        ("បន្តទិដ្ឋាការ", "km"),
        ("ဗီဇာသက်တမ်းတိုး", "my"),
        ("كيف أجدد تأشيرتي", "ar"),
        ("Как продлить визу", "ru"),
        ("Làm thế nào để gia hạn thị thực", "vi"),
    ],
)
def test_the_script_decides_first(understand, text, language):
    assert understand(text).language == language


def test_chinese_with_latin_words_is_chinese(understand):
    assert understand("我想办 work permit").language == "zh"
    assert understand("iPhone怎么绑定电子社保卡").language == "zh"


def test_traditional_and_simplified_are_told_apart_by_opencc(understand):
    assert understand("請問在哪裡辦理").language == "zh-Hant"
    assert understand("请问在哪里办理").language == "zh"


def test_text_the_same_in_both_scripts_follows_the_ui_language(understand):
    assert understand("公司", "zh-HK").language == "zh-Hant"
    assert understand("公司", "zh-CN").language == "zh"


def test_cantonese_in_either_script(understand):
    assert understand("佢喺邊度攞咗身份證").language == "yue"
    assert understand("佢喺边度攞咗身份证").language == "yue"


def test_a_mandarin_word_holding_a_cantonese_spelling_is_not_cantonese(understand):
    # 係 alone is Cantonese for 是; inside 關係 it is Mandarin.
    assert understand("我們的關係證明怎麼開").language == "zh-Hant"


@pytest.mark.parametrize("text", ["shebao zenme jiao", "shebaozenmejiao", "gōng jī jīn", "lv4shi1"])
def test_pinyin_is_found_by_syllable_parsing(understand, text):
    assert understand(text).language == "pinyin"


def test_english_that_does_not_parse_as_pinyin_goes_to_langdetect(understand):
    assert understand("How do I renew my visa?").language == "en"
    assert understand("Comment renouveler mon visa ?").language == "fr"


def test_one_word_latin_text_follows_the_ui_language(understand):
    # One word that parses as pinyin is pinyin for a Chinese UI, English for an English one.
    assert understand("women", "zh-CN").language == "pinyin"
    assert understand("women", "en").language == "en"
    # langdetect alone reads these as Latvian and Portuguese.
    assert understand("visa").language == "en"
    assert understand("passport").language == "en"


def test_malay_and_indonesian_are_told_apart_by_their_words(understand):
    assert understand("Di manakah saya boleh memohon permit kerja").language == "ms"
    assert understand("Di mana saya bisa mengurus izin tinggal").language == "id"


def test_no_letters_at_all_takes_the_ui_language(understand):
    assert understand("12345", "en").language == "en"
    assert understand("？", "zh-HK").language == "zh-Hant"


def test_identification_is_deterministic(understand):
    texts = ["visa", "Saya kehilangan paspor saya", "hello", "tax refund"]
    first = [understand(text).language for text in texts]
    assert [understand(text).language for text in texts] == first


def test_locale_language():
    assert locale_language("zh-CN") == "zh"
    assert locale_language("zh-HK") == "zh-Hant"
    assert locale_language("en-GB") == "en"
    assert locale_language("yue") == "yue"


def test_scripts_counts_letters_only():
    assert scripts("社保 app 123？") == {"Han": 2, "Latin": 3}


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("How do I renew my residence permit in Shanghai", "Latin"),
        ("Comment renouveler mon titre de séjour", "Latin"),
        ("Bagaimana cara memperpanjang visa kerja saya", "Latin"),
        ("Как продлить визу", "Cyrillic"),
        ("visa", "Latin"),
        # Slow to converge: trials that run to langdetect's limit of 1,000 steps.
        ("I lost my passport what to do", "Latin"),
        ("Where do I get a residence ID", "Latin"),
        ("shebaoka diule zenme buban ne", "Latin"),
        ("Onde posso renovar o meu visto de trabalho", "Latin"),
    ],
)
def test_the_candidate_detector_gives_langdetects_own_probabilities(text, script):
    """Skipping the languages without a prior, and stepping through arrays, must not move a
    single float."""
    from langdetect import detector_factory

    from gateway.understanding.identify import SCRIPT_CANDIDATES, CandidateDetector

    detector_factory.init_factory()
    stock = detector_factory._factory.create()
    lean = CandidateDetector(detector_factory._factory)
    for detector in (stock, lean):
        detector.set_prior_map(dict(SCRIPT_CANDIDATES[script]))
        detector.append(text)
    assert [(p.lang, p.prob) for p in lean.get_probabilities()] == [
        (p.lang, p.prob) for p in stock.get_probabilities()
    ]
    assert lean.langprob == stock.langprob  # every language, not only the likely ones
