import re
import string

import pytest

import locales


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("locale", locales.available())
def test_every_locale_has_every_key_with_the_same_placeholders(locale):
    reference = locales.DEFAULT_LOCALE
    assert locales.keys(locale) == locales.keys(reference), "missing or extra keys"
    for key in locales.keys(reference):
        assert placeholders(locales.raw(locale, key)) == placeholders(
            locales.raw(reference, key)
        ), key


@pytest.mark.parametrize("locale", locales.available())
def test_every_locale_names_itself(locale):
    info = locales.info(locale)
    assert info.name and info.direction in ("ltr", "rtl")


def test_gateway_error_codes_all_have_messages():
    from gateway.errors import STATUS_BY_CODE

    for code in STATUS_BY_CODE:
        assert locales.raw(locales.DEFAULT_LOCALE, f"error.{code}"), code


@pytest.mark.parametrize(
    ("requested", "accept", "expected"),
    [
        ("en", None, "en"),
        ("EN-gb", None, "en"),
        (None, "zh-TW,zh;q=0.8", "zh-HK"),
        (None, "fr-CA;q=0.2, en-US;q=0.9", "en"),
        (None, "xx, yy;q=0.5", "zh-CN"),
        ("not a tag", "en", "en"),
        (None, "zh-Hans-CN", "zh-CN"),
        (None, "yue", "zh-HK"),
        (None, "en;q=abc, zh", "zh-CN"),
    ],
)
def test_negotiation(requested, accept, expected):
    assert locales.negotiate(requested, accept) == expected


def test_text_falls_back_and_formats():
    assert "12345" in locales.text("answer.not_found", "xx", hotline="12345")
    with pytest.raises(KeyError):
        locales.text("no.such.key", "en")


REQUIRED = [
    "zh-CN",
    "zh-HK",
    "en",
    "ko",
    "ja",
    "vi",
    "th",
    "ru",
    "fr",
    "es",
    "ar",
    "id",
    "ms",
    "lo",
]


def test_the_fourteen_ui_languages_are_there_under_their_own_names():
    assert set(REQUIRED) <= set(locales.available())
    names = {code: locales.info(code).name for code in REQUIRED}
    assert len(set(names.values())) == len(REQUIRED)
    assert (
        names["ar"] == "العربية" and names["lo"] == "ພາສາລາວ" and names["zh-HK"].startswith("繁體")
    )
    directions = {code: locales.info(code).direction for code in REQUIRED}
    assert [code for code, direction in directions.items() if direction == "rtl"] == ["ar"]


@pytest.mark.parametrize("locale", REQUIRED)
def test_translations_are_translated_not_copied(locale):
    if locale == "en":
        return

    def words(text: str) -> str:
        return re.sub(r"\{\w+\}|[^\w]", "", text)

    same = [
        key
        for key in locales.keys(locale)
        if locales.raw(locale, key) == locales.raw("en", key)
        and len(words(locales.raw("en", key))) > 12
    ]
    assert same == []


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("ko-KR", "ko"), ("ms-MY,ms;q=0.9", "ms"), ("in-ID", "id"), ("lo-LA", "lo"), ("ar-SA", "ar")],
)
def test_regional_tags_find_their_language(accept, expected):
    assert locales.negotiate(None, accept) == expected
