"""Personal data masking: resident ID numbers, phone numbers, bank cards, e-mail addresses and
passport numbers are replaced by a label before a question leaves the gateway, reaches a log or
is stored.

Numbers are recognised by their structure, not only their length: resident IDs by region code
and a real birth date (a wrong GB 11643 check digit still counts, since a resident who mistyped
one digit has still typed their ID), bank cards by the Luhn check, mobile numbers by the
mainland prefixes. Masking errs on the side of hiding.
"""

from __future__ import annotations

import datetime as dt
import re
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

# Numbers are told apart from longer numbers by digits only: letters typed right against them
# ("ID110105…abc") do not make them any less personal.
_ID18 = re.compile(r"(?<![0-9])([1-8]\d{5})((?:19|20)\d{2})(\d{2})(\d{2})(\d{3})([0-9Xx])(?![0-9])")
_ID15 = re.compile(r"(?<![0-9])([1-8]\d{5})(\d{2})(\d{2})(\d{2})(\d{3})(?![0-9])")
_DIGIT_RUN = re.compile(r"(?<![0-9])\d(?:[ -]?\d){12,22}(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9])")
_LANDLINE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[ -]?)?(?:\(0\d{2,3}\)|0\d{2,3})[ -]?"
    r"[2-9]\d{6,7}(?:-\d{1,5})?(?![0-9])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PASSPORT_CN = re.compile(r"(?:[EeGgDdSsPp]\d{8}|[Ee][A-HJ-NP-Za-hj-np-z]\d{7})(?![0-9])")
_PASSPORT_NAMED = re.compile(
    r"(?i)(?:护照|護照|passport|通行证|通行證)[^0-9]{0,15}?(?<![A-Za-z])([A-Za-z]{1,2}\d{6,9})(?![0-9A-Za-z])"
)
#: Every pattern above needs an "@", four digits in a row, or at least 13 digits (a card
#: number typed with a space between digits): text with none of these is returned at once.
_FOUR_DIGITS = re.compile(r"\d{4}")
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


def _find(text: str) -> list[Finding]:
    found: list[Finding] = []
    for match in _ID18.finditer(text):
        if _real_date(int(match[2]), int(match[3]), int(match[4])):
            number = match[0].upper()
            # A wrong check digit is most often a mistyped ID, unless the number is a card.
            is_card = id_check_digit(number[:17]) != number[17] and luhn_valid(number)
            found.append(Finding("bank_card" if is_card else "resident_id", *match.span()))
    for match in _ID15.finditer(text):
        if _real_date(1900 + int(match[2]), int(match[3]), int(match[4])):
            found.append(Finding("resident_id", match.start(), match.end()))
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match[0])
        if 16 <= len(digits) <= 19 and luhn_valid(digits):
            found.append(Finding("bank_card", match.start(), match.end()))
    found += [Finding("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    found += [Finding("mobile", m.start(), m.end()) for m in _MOBILE.finditer(text)]
    found += [Finding("landline", m.start(), m.end()) for m in _LANDLINE.finditer(text)]
    found += [Finding("passport", m.start(), m.end()) for m in _PASSPORT_CN.finditer(text)]
    found += [Finding("passport", m.start(1), m.end(1)) for m in _PASSPORT_NAMED.finditer(text)]
    return found


def mask(text: str) -> Masked:
    """``text`` with every personal number replaced by its label."""
    if "@" not in text and not _FOUR_DIGITS.search(text) and sum(map(str.isdigit, text)) < 13:
        return Masked(text)
    # Earlier kinds win where spans overlap (an ID number also looks like a phone number).
    chosen: list[Finding] = []
    for finding in _find(text):
        if all(finding.end <= kept.start or finding.start >= kept.end for kept in chosen):
            chosen.append(finding)
    if not chosen:
        return Masked(text)
    chosen.sort(key=lambda finding: finding.start)
    pieces: list[str] = []
    position = 0
    for finding in chosen:
        pieces.append(text[position : finding.start])
        pieces.append(LABELS[finding.kind])
        position = finding.end
    pieces.append(text[position:])
    return Masked("".join(pieces), tuple(chosen))
