"""The sensitive-word lexicon: files, normalization, actions, whole words, masking."""

from pathlib import Path

import pytest

from gateway.safety.lexicon import MASK, Lexicon, LexiconError, masked, read_entries, strongest
from gateway.safety.normalize import aligned, normalize

ENTRIES = [
    ("办假证", "fraud", "block"),
    ("傻逼", "insult", "mask"),
    ("自杀", "self_harm", "review"),
    ("ass", "insult", "mask"),
    ("Dark Web", "crime", "block"),
]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon(ENTRIES)


@pytest.mark.parametrize(
    "text",
    [
        "哪里可以办假证",
        "哪里可以辦假證",  # Traditional
        "哪里可以办 假 证",  # spaces between the characters
        "哪里可以办*假*证",
        "哪里可以办\u200b假\u200b证",  # zero-width spaces
        "哪里可以办😀假😀证",
        "哪里可以办、假。证",
        "哪里可以办　假　证",  # ideographic spaces
    ],
)
def test_a_term_is_found_however_it_is_disguised(lexicon, text):
    matches = lexicon.scan(text)
    assert [(m.term, m.action, m.category) for m in matches] == [("办假证", "block", "fraud")]
    found = matches[0]
    assert text[found.start] == text[4] and normalize(text[found.start : found.end]) == "办假证"


@pytest.mark.parametrize(
    "text",
    [
        "哪里可以办x假x证",
        "哪里可以办1假22证",  # digits too
        "哪里可以辦Ｘ假y證",  # full width, upper case, Traditional
        "哪里可以办 x 假 - x 证",  # letters and other noise together
    ],
)
def test_letters_slipped_between_the_characters_of_a_term_are_seen_through(lexicon, text):
    matches = lexicon.scan(text)
    assert [(m.term, m.action) for m in matches] == [("办假证", "block")]
    assert (matches[0].start, matches[0].end) == (4, len(text))


@pytest.mark.parametrize(
    "text",
    [
        "哪里可以办xyz假证",  # three letters: a word, not noise
        "请带3份复印件到窗口办理，第2批次的假期证明另行通知",
        "办理ID卡和假日证件",
    ],
)
def test_letters_and_numbers_in_ordinary_text_make_no_match(lexicon, text):
    assert lexicon.scan(text) == []


def test_a_term_with_letters_slipped_in_is_masked_as_written(lexicon):
    text = "你这个傻b逼，请问"
    matches = lexicon.scan(text)
    assert masked(text, matches) == f"你这个{MASK * 3}，请问"


@pytest.mark.parametrize("text", ["go to the DARK WEB", "ｄａｒｋ ｗｅｂ", "dark-web", "Dark_Web!"])
def test_latin_terms_ignore_width_case_and_separators(lexicon, text):
    assert [m.term for m in lexicon.scan(text)] == ["darkweb"]


@pytest.mark.parametrize("text", ["a class on grammar", "assistant", "passport", "mass"])
def test_a_latin_term_is_only_found_as_a_whole_word(lexicon, text):
    assert lexicon.scan(text) == []


def test_ordinary_questions_match_nothing(lexicon):
    for text in ["居住证怎么办理", "办证需要什么材料", "假期办理证件", "证件办理假日也开放"]:
        assert lexicon.scan(text) == [], text


def test_masking_keeps_the_length_and_only_hides_mask_terms(lexicon):
    text = "你这个傻 逼，我想问自杀热线"
    matches = lexicon.scan(text)
    assert strongest(matches) == "mask"
    hidden = masked(text, matches)
    assert len(hidden) == len(text)
    assert hidden == f"你这个{MASK * 3}，我想问自杀热线"
    assert {m.action for m in matches} == {"mask", "review"}


def test_a_term_listed_twice_keeps_its_strongest_action():
    lexicon = Lexicon([("赌博", "a", "review"), ("赌博", "b", "block"), ("赌博", "c", "mask")])
    assert [(m.category, m.action) for m in lexicon.scan("网络赌博")] == [("b", "block")]


def test_alignment_points_back_to_the_written_characters():
    normalized, origin = aligned("Ａ b，辦㎡")
    assert normalized == "ab办m2"
    assert origin == [0, 2, 4, 5, 5]


def test_lexicon_files_are_read_with_defaults_and_comments(tmp_path: Path):
    path = tmp_path / "words.tsv"
    path.write_text(
        "# a comment\n\n办假证\tfraud\tblock\n刷单\n傻逼\tinsult\tmask\n#x\ty\tblock\n",
        encoding="utf-8",
    )
    assert read_entries(path) == [
        ("办假证", "fraud", "block"),
        ("刷单", "default", "block"),
        ("傻逼", "insult", "mask"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [("办假证\tfraud\tdelete\n", "line 1: action 'delete'"), ("长" * 65 + "\n", "longer than")],
)
def test_a_bad_lexicon_line_is_named(tmp_path: Path, content, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError, match=message):
        read_entries(path)


def test_an_empty_lexicon_finds_nothing():
    assert Lexicon([]).scan("办假证") == []


def test_the_sample_lexicon_ships_and_loads():
    from gateway.config import SafetyConfig
    from gateway.safety.review import load_lexicon

    lexicon = load_lexicon(SafetyConfig())
    assert 5 <= len(lexicon) <= 50
    assert strongest(lexicon.scan("哪里能办假证")) == "block"
