"""The bundled glossary's coverage and the placeholder protection every engine relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.translation.glossary import Glossary, GlossaryError, placeholders_in

LANGUAGES = ("ko", "ja", "vi", "th", "ru")


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load()


def test_the_bundled_glossary_covers_enough_terms(glossary: Glossary) -> None:
    with_english = [term for term in glossary.terms if term.official("en")]
    assert len(with_english) >= 150
    everywhere = [term for term in with_english if all(term.official(x) for x in LANGUAGES)]
    assert len(everywhere) >= 50


def test_every_form_names_one_term(glossary: Glossary) -> None:
    for language in ("zh", "en", *LANGUAGES):
        seen: dict[str, str] = {}
        for term in glossary.terms:
            for form in term.forms.get(language, ()):
                key = form.casefold()
                assert key not in seen, (
                    f"{language} {form!r}: {seen.get(key)} and {term.forms['zh'][0]}"
                )
                seen[key] = term.forms["zh"][0]


def test_terms_become_numbered_placeholders_and_come_back_official(glossary: Glossary) -> None:
    protected = glossary.protect(
        ["带上身份证和居住证到派出所。", "身份证丢了？", "手机号[手机号码]"], "zh", "en"
    )
    assert protected.texts == ["带上ZQ1和ZQ2到ZQ3。", "ZQ1丢了？", "手机号ZQ4"]
    assert protected.hints == {
        "ZQ1": "resident ID card",
        "ZQ2": "residence permit",
        "ZQ3": "police station",
        "ZQ4": "[手机号码]",  # masked personal data stays exactly as masked
    }
    restored, unknown = protected.restore("Take ZQ1 and ZQ 2 to the ＺＱ３, ZQ9.", "en")
    assert restored == "Take resident ID card and residence permit to the police station, ZQ9."
    assert unknown == ["ZQ9"]


def test_colloquial_and_official_forms_render_the_same(glossary: Glossary) -> None:
    protected = glossary.protect(["社保和社会保险"], "zh", "en")
    assert protected.texts == ["ZQ1和ZQ1"] and protected.renderings == ["social insurance"]


def test_questions_are_matched_in_each_language(glossary: Glossary) -> None:
    cases = {
        ("en", "How do I renew my Residence Permits and hukou?"): ["居住证", "户口"],
        ("ko", "거주증을 신청하려면 여권이 필요합니까?"): ["居住证", "护照"],
        ("ja", "居住証の申請にパスポートが必要ですか"): ["居住证", "护照"],
        ("vi", "Làm thế nào để gia hạn thị thực?"): ["签证延期"],
        ("th", "ต้องใช้หนังสือเดินทางและใบอนุญาตทำงาน"): ["护照", "工作许可"],
        ("ru", "Как продлить визу и получить вид на жительство?"): ["居留许可"],
    }
    for (language, text), expected in cases.items():
        assert glossary.protect([text], language, "zh").renderings == expected, language


def test_english_terms_match_whole_words_only(glossary: Glossary) -> None:
    assert glossary.protect(["The visage of a passportless man"], "en", "zh").renderings == []


def test_placeholders_join_unspaced_languages_without_spaces(glossary: Glossary) -> None:
    protected = glossary.protect(["How do I get a residence permit?"], "en", "zh")
    assert protected.restore("怎么 办 ZQ1 ？", "zh")[0] == "怎么 办居住证？"
    assert protected.restore("how to get ZQ1?", "zh")[0] == "how to get 居住证?"
    korean = glossary.protect(["居住证怎么办？"], "zh", "ko")
    assert korean.restore("ZQ1을 어떻게", "ko")[0] == "거주증을 어떻게"


def test_glued_placeholders_keep_words_apart(glossary: Glossary) -> None:
    protected = glossary.protect(["带身份证"], "zh", "en")
    assert protected.restore("bringZQ1now", "en")[0] == "bring resident ID card now"


def test_placeholders_in_finds_spaced_and_wide_forms() -> None:
    assert placeholders_in("ZQ1, Z Q 2 and ＺＱ３") == {"ZQ1", "ZQ2", "ZQ3"}


def test_operators_add_their_own_terms(tmp_path: Path) -> None:
    extra = tmp_path / "local.tsv"
    extra.write_text(
        "zh\ten\tko\n# a comment\n浦东新区\tPudong New Area\t푸둥신구\n", encoding="utf-8"
    )
    glossary = Glossary.load([extra])
    assert glossary.protect(["浦东新区政务中心"], "zh", "ko").renderings == [
        "푸둥신구",
        "행정서비스센터",
    ]


def test_broken_glossary_files_are_reported_by_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("zh\ten\n\tno Chinese\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match=r"bad\.tsv:2: the zh column is empty"):
        Glossary.load([bad])
    with pytest.raises(GlossaryError, match=r"missing\.tsv"):
        Glossary.load([tmp_path / "missing.tsv"])
