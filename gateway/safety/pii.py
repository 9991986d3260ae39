"""Personal data masking: resident ID numbers, phone numbers, bank cards, e-mail addresses and
passport numbers are replaced by a label before a question leaves the gateway, reaches a log or
is stored. :func:`mask` is the one masking of the gateway: every caller (questions, earlier
turns, feedback comments, stored rows, every field of a log line, transcripts) goes through it.

Residents write numbers many ways, so the text is first *folded* into a copy that is only
searched, never sent on: every script's decimal digits (full-width ``１３８``, Arabic-Indic …)
and the Chinese numerals 〇零一幺二两兩三四五六七八九 become ASCII digits, full-width letters and
punctuation become ASCII (``＠``, ``Ｘ``), the many spaces, dashes and dots become one of each,
and invisible characters (zero-width spaces, joiners, soft hyphens, bidi marks) are dropped. A
number is then a run of digits with up to three separators (space, ``.``, ``-``, ``/``,
parentheses) between any two — ``110105 19491231 002X``, ``138.1234.5678``, ``1 3 8 1 …`` —
and every stretch of whole digit groups in a run is tried, longest first:

- resident IDs: 18 characters, a GB/T 2260 province code (``11``–``15``, ``21``–``23``,
  ``31``–``37``, ``41``–``46``, ``50``–``54``, ``61``–``65``, ``71``, ``81``–``83``; after a
  ``9`` for the foreigners' permanent residence ID), a real birth date and three digits, then
  the GB 11643 check character; a wrong check character still counts (a resident who mistyped
  one digit has still typed their ID) unless the number passes the Luhn check, when it is a
  card. Old 15-digit IDs: province code, a real ``YYMMDD`` date, three digits.
- bank cards: 16–19 digits passing the Luhn check, starting as card numbers do (3–6, 9, or
  Mastercard's 2221–2720): a failing Luhn check means an order or policy number.
- mobiles: ``1[3-9]`` and nine digits, after ``+86``/``0086``/``86`` or not.
- landlines: ``0`` and an area code (``10``, ``2x``, or three digits from ``3``), then seven or
  eight digits from ``2``; or the same after ``+86`` without the ``0`` (``+86 10 6234 5632``).

Years, amounts, dates and hotlines stay (``2026年``, ``3000元``, ``2026-01-01``, ``12345``): no
run of theirs has the shape above, and a number is only found on whole digit groups, never in the
middle of a longer one. Text with fewer than six digits is returned unsearched. Masking errs on
the side of hiding (docs/privacy.md lists what is masked and what is not).
"""

from __future__ import annotations

import array
import bisect
import datetime as dt
import itertools
import re
import sys
import unicodedata
from dataclasses import dataclass

#: The label that replaces each kind of number in the text sent on. Back ends read Chinese, so
#: the labels are Chinese; residents are told in their own language (``pii.<kind>``).
LABELS = {
    "resident_id": "[身份证号码]",
    "bank_card": "[银行卡号]",
    "mobile": "[手机号码]",
    "landline": "[电话号码]",
    "email": "[电子邮箱]",
    "passport": "[护照号码]",
}

#: GB/T 2260 province-level codes, the first two digits of a resident ID (71 Taiwan, 81 Hong
#: Kong, 82 Macao; 83 the residence permits of Taiwan residents).
PROVINCES = frozenset(
    (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55),
     *range(61, 66), 71, 81, 82, 83)
)  # fmt: skip

_CHINESE_NUMERALS = {
    "〇": "0", "零": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "兩": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_SPACES += "\u202f\u205f\u3000"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\u30fc"
_DOTS = "\u00b7\u30fb\uff65\u3002\uff61"


def _characters(*ranges: range) -> str:
    # Built by decoding, not chr() one by one: this runs at import, for 130,000 characters.
    codes = array.array("I", itertools.chain(*ranges)).tobytes()
    return codes.decode(f"utf-32-{sys.byteorder[0]}e")


def _fold_table() -> tuple[dict[int, str | None], frozenset[int]]:
    # Every script's decimal digits (all below U+20000); Python's \d is exactly these.
    digits = re.findall(r"\d", _characters(range(0x80, 0xD800), range(0xE000, 0x20000)))
    table: dict[int, str | None] = {ord(char): str(unicodedata.decimal(char)) for char in digits}
    # Zero-width spaces and joiners, soft hyphens, bidi marks (the format characters of the
    # basic plane, none of them printable), the tags and the variation selectors.
    basic = _characters(range(0x80, 0xD800), range(0xE000, 0x10000))
    unprintable = itertools.filterfalse(str.isprintable, basic)
    invisible = {ord(char) for char in unprintable if unicodedata.category(char) == "Cf"}
    invisible |= {0xE0001, *range(0xE0020, 0xE0080), *range(0xFE00, 0xFE10)}
    invisible |= set(range(0xE0100, 0xE01F0))
    # Full-width letters and the punctuation numbers and addresses are written with (not the
    # full-width comma or question mark of every Chinese sentence: nothing to fold there).
    letters = [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
    for code in [*map(ord, "＠．－／（）＋＿％"), *letters]:
        table[code] = chr(code - 0xFEE0)
    for chars, folded in ((_SPACES, " "), (_DASHES, "-"), (_DOTS, ".")):
        table.update({ord(char): folded for char in chars})
    table.update({ord(char): digit for char, digit in _CHINESE_NUMERALS.items()})
    table.update(dict.fromkeys(invisible))
    return table, frozenset(invisible)


_FOLD, _INVISIBLE = _fold_table()


def _ranges(codes: frozenset[int]) -> str:
    """A regular-expression class of ``codes``, consecutive ones as ranges (far faster to match
    than the characters one by one)."""
    parts: list[tuple[int, int]] = []
    for code in sorted(codes):
        if parts and code == parts[-1][1] + 1:
            parts[-1] = (parts[-1][0], code)
        else:
            parts.append((code, code))
    return "[" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in parts) + "]"


_INVISIBLE_CHAR = re.compile(_ranges(_INVISIBLE))
#: What a number or a passport is written with, in any script; without six of these and
#: without an "@", a text holds nothing to mask and is not folded at all.
_DIGITISH = re.compile("[\\d" + "".join(_CHINESE_NUMERALS) + "]")

#: A run of at least 11 digits (the shortest number looked for), up to three separators between
#: two digits; a leading ``+`` or ``(``, and a closing ``X`` (the check character of an ID).
_RUN = re.compile(r"[+(]?[0-9](?:[ \t.\-/()]{0,3}[0-9]){10,}(?:[ .\-]{0,2}[Xx])?")
_GROUP = re.compile(r"[0-9]+|[Xx]")
_MOBILE = re.compile(r"(?:0086|86)?1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"(?:0|0086|86)(?:10|2[0-9]|[3-9][0-9]{2})[2-9][0-9]{6,7}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PASSPORT_CN = re.compile(r"(?:[EeGgDdSsPp]\d{8}|[Ee][A-HJ-NP-Za-hj-np-z]\d{7})(?![0-9])")
_PASSPORT_NAMED = re.compile(
    r"(?i)(?:护照|護照|passport|通行证|通行證)[^0-9]{0,15}?(?<![A-Za-z])([A-Za-z]{1,2}\d{6,9})(?![0-9A-Za-z])"
)
#: The shortest number looked for has 11 digits, a passport 6; an e-mail needs an "@".
_FEWEST_DIGITS = 6
_NUMBER_DIGITS = 11
_LONGEST = 19
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Masked:
    text: str
    findings: tuple[Finding, ...] = ()

    @property
    def kinds(self) -> list[str]:
        """The kinds found, each once, in the order of ``LABELS``."""
        found = {finding.kind for finding in self.findings}
        return [kind for kind in LABELS if kind in found]


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character of an 18-digit resident ID's first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        return dt.date(year, month, day) <= dt.date.today()
    except ValueError:
        return False


def _card_prefix(digits: str) -> bool:
    return digits[0] in "345369" or 2221 <= int(digits[:4]) <= 2720


def _resident_id(digits: str) -> bool:
    """18 characters: province (after a 9 for foreigners), a real birth date, 3 digits, check."""
    if not digits[:17].isdigit():
        return False
    province = digits[1:3] if digits[0] == "9" else digits[:2]
    year, month, day = int(digits[6:10]), int(digits[10:12]), int(digits[12:14])
    return int(province) in PROVINCES and year >= 1900 and _real_date(year, month, day)


def _kind(digits: str) -> str | None:
    """What ``digits`` (a number's digits, separators removed) is, if it is personal."""
    length = len(digits)
    if length == 18 and _resident_id(digits):
        number = digits.upper()
        # A wrong check digit is most often a mistyped ID, unless the number is a card.
        if id_check_digit(number[:17]) != number[17] and luhn_valid(number):
            return "bank_card"
        return "resident_id"
    if not digits.isdigit():
        return None
    if length == 15 and int(digits[:2]) in PROVINCES:
        year, month, day = 1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
        if _real_date(year, month, day):
            return "resident_id"
    if 16 <= length <= 19 and _card_prefix(digits) and luhn_valid(digits):
        return "bank_card"
    if _MOBILE.fullmatch(digits):
        return "mobile"
    if _LANDLINE.fullmatch(digits):
        return "landline"
    return None


def _numbers(folded: str) -> list[Finding]:
    """Every personal number in the digit runs of ``folded``: the longest stretch of whole digit
    groups that is one, from the left."""
    found: list[Finding] = []
    for run in _RUN.finditer(folded):
        text = run[0]
        groups = [(group[0], group.start(), group.end()) for group in _GROUP.finditer(text)]
        first = 0
        while first < len(groups):
            best: tuple[str, int] | None = None
            digits = ""
            for last in range(first, len(groups)):
                digits += groups[last][0]
                if len(digits) > _LONGEST:
                    break
                if len(digits) >= _NUMBER_DIGITS and (kind := _kind(digits)):
                    best = (kind, last)
            if best is None:
                first += 1
                continue
            start, end = groups[first][1], groups[best[1]][2]
            if first == 0:
                start = 0  # the "+" of "+86" or the "(" of "(010)"
            found.append(Finding(best[0], run.start() + start, run.start() + end))
            first = best[1] + 1
    return found


def _find(folded: str) -> list[Finding]:
    found: list[Finding] = []
    if "@" in folded:
        found += [Finding("email", m.start(), m.end()) for m in _EMAIL.finditer(folded)]
    found += _numbers(folded)
    found += [Finding("passport", m.start(), m.end()) for m in _PASSPORT_CN.finditer(folded)]
    found += [Finding("passport", m.start(1), m.end(1)) for m in _PASSPORT_NAMED.finditer(folded)]
    return found


def mask(text: str) -> Masked:
    """``text`` with every personal number replaced by its label, however it was written."""
    if "@" not in text and "＠" not in text and len(_DIGITISH.findall(text)) < _FEWEST_DIGITS:
        return Masked(text)
    folded = text if text.isascii() else text.translate(_FOLD)  # ASCII folds to itself
    # Earlier kinds win where spans overlap (an e-mail address may hold a phone number).
    chosen: list[Finding] = []
    for finding in _find(folded):
        if all(finding.end <= kept.start or finding.start >= kept.end for kept in chosen):
            chosen.append(finding)
    if not chosen:
        return Masked(text)
    if len(folded) != len(text):
        # Invisible characters were dropped: put the spans back on the text as written. The
        # j-th dropped one was at ``dropped[j]`` in the folded text.
        dropped = [m.start() - j for j, m in enumerate(_INVISIBLE_CHAR.finditer(text))]

        def origin(index: int) -> int:
            return index + bisect.bisect_right(dropped, index)

        chosen = [Finding(f.kind, origin(f.start), origin(f.end - 1) + 1) for f in chosen]
    chosen.sort(key=lambda finding: finding.start)
    pieces: list[str] = []
    position = 0
    for finding in chosen:
        pieces.append(text[position : finding.start])
        pieces.append(LABELS[finding.kind])
        position = finding.end
    pieces.append(text[position:])
    return Masked("".join(pieces), tuple(chosen))
