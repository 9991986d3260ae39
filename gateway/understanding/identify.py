"""Identify the language of a question.

In order: the Unicode script decides what it alone can (Hangul, Kana, Thai, Lao, Khmer,
Myanmar, Arabic, Cyrillic …); text with Chinese characters is Chinese even with Latin words in
it (我想办 work permit), and then Cantonese by its own words (gateway/data/cantonese.tsv), else
Traditional or Simplified by which characters OpenCC would convert; Latin text is pinyin when
it parses into syllables that read as Chinese words, else langdetect (seeded, so the same text
always gets the same answer) decides among the languages written in that script, weighted by
how often residents use them and by the UI language; where it names a language few residents
write, or one of Indonesian, Malay and Tagalog, everyday words of gateway/data/markers.tsv
decide. Text too short to decide gets the UI language.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from functools import cache

import numpy as np
from langdetect import DetectorFactory, detector_factory
from langdetect.detector import Detector
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from pydantic import BaseModel, ConfigDict

from gateway.understanding.base import Analysis, Stage, Step
from gateway.understanding.cantonese import CANTONESE_WEIGHT, cantonese_map
from gateway.understanding.lexicon import Lexicon, data_rows
from gateway.understanding.pinyin import Decoder
from gateway.understanding.script import converter, traditional_share, variant

DetectorFactory.seed = 0

# (first code point, last code point, script), sorted.
_RANGES = sorted(
    [
        (0x0041, 0x005A, "Latin"),
        (0x0061, 0x007A, "Latin"),
        (0x00C0, 0x024F, "Latin"),
        (0x1E00, 0x1EFF, "Latin"),
        (0x0370, 0x03FF, "Greek"),
        (0x0400, 0x052F, "Cyrillic"),
        (0x0530, 0x058F, "Armenian"),
        (0x0590, 0x05FF, "Hebrew"),
        (0x0600, 0x06FF, "Arabic"),
        (0x0750, 0x077F, "Arabic"),
        (0x08A0, 0x08FF, "Arabic"),
        (0xFB50, 0xFDFF, "Arabic"),
        (0xFE70, 0xFEFF, "Arabic"),
        (0x0900, 0x097F, "Devanagari"),
        (0x0980, 0x09FF, "Bengali"),
        (0x0A00, 0x0A7F, "Gurmukhi"),
        (0x0A80, 0x0AFF, "Gujarati"),
        (0x0B80, 0x0BFF, "Tamil"),
        (0x0C00, 0x0C7F, "Telugu"),
        (0x0C80, 0x0CFF, "Kannada"),
        (0x0D00, 0x0D7F, "Malayalam"),
        (0x0D80, 0x0DFF, "Sinhala"),
        (0x0E00, 0x0E7F, "Thai"),
        (0x0E80, 0x0EFF, "Lao"),
        (0x0F00, 0x0FFF, "Tibetan"),
        (0x1000, 0x109F, "Myanmar"),
        (0xA9E0, 0xA9FF, "Myanmar"),
        (0xAA60, 0xAA7F, "Myanmar"),
        (0x10A0, 0x10FF, "Georgian"),
        (0x1100, 0x11FF, "Hangul"),
        (0x3130, 0x318F, "Hangul"),
        (0xAC00, 0xD7AF, "Hangul"),
        (0x1200, 0x137F, "Ethiopic"),
        (0x1780, 0x17FF, "Khmer"),
        (0x19E0, 0x19FF, "Khmer"),
        (0x1800, 0x18AF, "Mongolian"),
        (0x3040, 0x30FF, "Kana"),
        (0x31F0, 0x31FF, "Kana"),
        (0x3100, 0x312F, "Bopomofo"),
        (0x31A0, 0x31BF, "Bopomofo"),
        (0x3400, 0x4DBF, "Han"),
        (0x4E00, 0x9FFF, "Han"),
        (0xF900, 0xFAFF, "Han"),
        (0x20000, 0x323AF, "Han"),
    ]
)
_STARTS = [start for start, _, _ in _RANGES]

#: Scripts one language writes.
SCRIPT_LANGUAGE = {
    "Hangul": "ko",
    "Kana": "ja",
    "Thai": "th",
    "Lao": "lo",
    "Khmer": "km",
    "Myanmar": "my",
    "Greek": "el",
    "Hebrew": "he",
    "Armenian": "hy",
    "Georgian": "ka",
    "Bengali": "bn",
    "Gurmukhi": "pa",
    "Gujarati": "gu",
    "Tamil": "ta",
    "Telugu": "te",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Sinhala": "si",
    "Tibetan": "bo",
    "Ethiopic": "am",
    "Mongolian": "mn",
    "Bopomofo": "zh-Hant",
}

#: Scripts several languages write: langdetect chooses among them, weighted by how often the
#: gateway's residents write each (the first is the default for text too short to tell).
SCRIPT_CANDIDATES: dict[str, dict[str, float]] = {
    "Latin": {
        "en": 8.0,
        "fr": 2.0,
        "es": 2.0,
        "id": 2.0,
        "vi": 2.0,
        "pt": 1.0,
        "de": 1.0,
        "it": 1.0,
        **dict.fromkeys(
            [
                "nl",
                "tl",
                "sw",
                "af",
                "ca",
                "cs",
                "cy",
                "da",
                "et",
                "fi",
                "hr",
                "hu",
                "lt",
                "lv",
                "no",
                "pl",
                "ro",
                "sk",
                "sl",
                "so",
                "sq",
                "sv",
                "tr",
            ],
            0.3,
        ),
    },
    "Cyrillic": {"ru": 8.0, "uk": 2.0, "bg": 1.0, "mk": 0.5},
    "Arabic": {"ar": 8.0, "fa": 2.0, "ur": 2.0},
    "Devanagari": {"hi": 8.0, "mr": 2.0, "ne": 2.0},
}

#: Letters only Vietnamese writes among Latin-script languages (not â ê ô: French has them).
#: Weight the UI language's own candidate is multiplied by.
LOCALE_PRIOR = 6.0

_VIETNAMESE = re.compile("[ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
_LATIN_WORD = re.compile(r"[^\W\d_]+")


_NOT_LETTERS = re.compile(r"[\W\d_]+")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af]")


def scripts(text: str) -> Counter[str]:
    """How many letters of ``text`` each script has."""
    letters = _NOT_LETTERS.sub("", text)
    counts: Counter[str] = Counter()
    han = len(_HAN.findall(letters))
    if han == len(letters):  # the usual question: Chinese characters alone, found at C speed
        if han:
            counts["Han"] = han
        return counts
    for char in letters:
        code = ord(char)
        index = bisect.bisect_right(_STARTS, code) - 1
        if index >= 0 and code <= _RANGES[index][1]:
            counts[_RANGES[index][2]] += 1
    return counts


def locale_language(locale: str) -> str:
    """The question language a UI locale suggests: zh-CN → zh, zh-HK → zh-Hant, en-GB → en."""
    tag = locale.replace("_", "-").lower()
    if tag.startswith("yue"):
        return "yue"
    if tag.startswith("zh"):
        return "zh-Hant" if tag.endswith(("-hk", "-tw", "-mo", "-hant")) else "zh"
    return tag.split("-")[0] or "zh"


def _traditional_locale(locale: str) -> bool:
    return locale_language(locale) in {"zh-Hant", "yue"}


def japanese_only(text: str) -> int:
    """Characters in Japanese shinjitai forms that neither Chinese script writes (険, 転, 駅)."""
    japanese = converter("jp2t").convert(text)
    if japanese == text or len(japanese) != len(text):  # no shinjitai form, or no telling
        return 0
    simplified = converter("t2s").convert(text)
    traditional = converter("s2t").convert(text)
    if len(simplified) != len(text) or len(traditional) != len(text):
        return 0
    return sum(
        1
        for char, jp, s, t in zip(text, japanese, simplified, traditional, strict=True)
        if jp != char and s == char and t == char
    )


@cache
def markers() -> dict[str, tuple[str, ...]]:
    """Words distinctive of one Latin-script language (gateway/data/markers.tsv)."""
    return {word: tuple(languages.split()) for word, languages in data_rows("markers.tsv")}


#: Languages langdetect mixes up, which marker words decide between.
CONFUSED = frozenset({"id", "ms", "tl"})


def _common(candidates: dict[str, float], locale: str) -> set[str]:
    """The languages residents commonly write in a script (weight ≥ 2), and the UI language."""
    return {language for language, weight in candidates.items() if weight >= 2} | {
        locale_language(locale)
    }


class CandidateDetector(Detector):
    """langdetect's detector, updating only the languages with a prior: one without stays at
    0 whatever n-gram it reads, so leaving it out changes no probability (the same floats, in
    the same order) and saves most of the work — 33 of langdetect's 55 languages are Latin
    candidates, 4 Cyrillic.

    Its search (``_detect_block``) is langdetect's own, step for step — the same random draws,
    the same convergence checks — with the live languages' probabilities in a numpy array:
    numpy multiplies, adds and divides element by element in one IEEE operation each, exactly
    as langdetect's Python loop does, so every float comes out the same; the sums stay Python
    sums, left to right. A question takes hundreds of steps, and each step is one array
    operation instead of a loop over 33 languages."""

    def set_prior_map(self, prior_map: dict[str, float]) -> None:
        super().set_prior_map(prior_map)
        self._live = [index for index, prior in enumerate(self.prior_map) if prior > 0]

    def _detect_block(self) -> None:
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        live = self._live
        distinct = list(dict.fromkeys(ngrams))
        table = np.array([self.word_lang_prob_map[ngram] for ngram in distinct])[:, live]
        position = {ngram: index for index, ngram in enumerate(distinct)}
        # Drawn from in place of the n-grams: a draw depends only on the length of the list.
        drawn = [position[ngram] for ngram in ngrams]
        choice = self.random.choice
        prior = np.array([self.prior_map[index] for index in live])
        totals = np.zeros(len(live))
        self.random.seed(self.seed)
        for _ in range(self.n_trial):
            prob = prior.copy()
            alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            # langdetect adds the weight to an n-gram's probabilities at every step: the same
            # sums, worked out once per trial.
            factors = list(alpha / self.BASE_FREQ + table)
            step = 0
            while True:
                prob *= factors[choice(drawn)]
                if step % 5 == 0:
                    # The languages left out are zeros: adding them changes no sum. Dividing by
                    # a positive number keeps the order, so the largest quotient is the
                    # largest probability's.
                    values = prob.tolist()
                    total = sum(values)
                    prob /= total
                    if max(values) / total > self.CONV_THRESHOLD or step >= self.ITERATION_LIMIT:
                        break
                step += 1
            totals += prob / self.n_trial
        self.langprob = [0.0] * len(self.langlist)
        for index, value in zip(live, totals.tolist(), strict=True):
            self.langprob[index] = value


def detect(text: str, candidates: dict[str, float], locale: str) -> str:
    """langdetect's choice among ``candidates`` (language → prior weight).

    langdetect is sure of itself even on one word ("visa" is Latvian, "hospital" Portuguese), so
    for text of one or two words it may only pick one of the languages residents commonly
    write or the UI language; anything else falls back to the default: the UI language when it
    is written in this script, else the script's most common language.
    """
    preferred = locale_language(locale)
    default = preferred if preferred in candidates else max(candidates, key=candidates.__getitem__)
    prior = dict(candidates)
    if preferred in prior:
        prior[preferred] *= LOCALE_PRIOR
    detector_factory.init_factory()
    detector = CandidateDetector(detector_factory._factory)
    detector.set_prior_map(prior)
    detector.append(text)
    try:
        language = detector.detect()
    except LangDetectException:  # no letters langdetect knows
        return default
    if len(_LATIN_WORD.findall(text)) <= 2 and language not in _common(candidates, locale):
        return default
    return language


def by_markers(text: str, detected: str, locale: str) -> str:
    """The language the marker words of ``text`` point to; ``detected`` when they do not."""
    table = markers()
    votes: Counter[str] = Counter()
    malay: Counter[str] = Counter()  # Malay against Indonesian
    for word in _LATIN_WORD.findall(text.lower()):
        languages = table.get(word, ())
        if languages and set(languages) <= {"id", "ms"}:
            votes["id ms"] += 1
            if len(languages) == 1:
                malay[languages[0]] += 1
        else:
            votes.update(languages)
    ranked = votes.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return detected
    if ranked[0][0] != "id ms":
        return ranked[0][0]
    if malay["ms"] != malay["id"]:
        return "ms" if malay["ms"] > malay["id"] else "id"
    if locale_language(locale) == "ms":
        return "ms"
    return detected if detected in {"id", "ms"} else "id"


class IdentifyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Mean log probability per syllable from which Latin text that parses as pinyin is read as
    #: Chinese typed in pinyin (English words that happen to parse score lower).
    pinyin_min_score: float = -7.0


class Identify(Stage):
    """Set ``analysis.language`` (and ``notes["script"]``, the resident's Traditional variant)."""

    name = "identify"
    Options = IdentifyOptions
    options: IdentifyOptions
    uses_lexicon = True

    def learn(self, lexicon: Lexicon) -> None:
        self.decoder = Decoder(lexicon)
        # Loaded now rather than on the first question that needs them.
        detector_factory.init_factory()
        cantonese_map()

    def apply(self, analysis: Analysis) -> None:
        analysis.language = self.identify(analysis)
        analysis.trace.append(Step(self.name, analysis.text, analysis.text, analysis.language))

    def identify(self, analysis: Analysis) -> str:
        text, locale = analysis.text, analysis.locale
        counts = scripts(text)
        if not counts:
            return locale_language(locale)
        han, kana, hangul, latin = counts["Han"], counts["Kana"], counts["Hangul"], counts["Latin"]
        if kana and (kana >= 3 or 5 * kana >= han + kana):
            return "ja"
        if hangul and hangul >= han and 3 * hangul >= latin:
            return "ko"
        if han >= 2 or (han and latin <= 3 * han):
            return self.chinese(analysis)
        script = max(counts, key=counts.__getitem__)
        if script == "Latin":
            return self.latin(analysis)
        if script in SCRIPT_CANDIDATES:
            return detect(text, SCRIPT_CANDIDATES[script], locale)
        return SCRIPT_LANGUAGE.get(script, locale_language(locale))

    def chinese(self, analysis: Analysis) -> str:
        text, locale = analysis.text, analysis.locale
        if japanese_only(text) or locale_language(locale) == "ja":
            return "ja"
        traditional, simplified = traditional_share(text)
        analysis.notes["traditional"] = traditional
        is_traditional = traditional > simplified or (
            traditional == simplified and _traditional_locale(locale)
        )
        cantonese = (
            cantonese_map().weight(converter("hk2s").convert(text) if traditional else text)
            >= CANTONESE_WEIGHT
        )
        if is_traditional:
            analysis.notes["script"] = variant(text, locale, cantonese)
        if cantonese:
            return "yue"
        return "zh-Hant" if is_traditional else "zh"

    def latin(self, analysis: Analysis) -> str:
        text, locale = analysis.text, analysis.locale
        if _VIETNAMESE.search(text):
            return "vi"
        conversion = self.decoder.convert(text)
        if conversion is not None and conversion.score >= self.options.pinyin_min_score:
            single_word = len(_LATIN_WORD.findall(text)) == 1
            chinese_ui = locale_language(locale) in {"zh", "zh-Hant", "yue"}
            if conversion.toned or (conversion.syllables >= 2 and (chinese_ui or not single_word)):
                analysis.notes["pinyin"] = conversion
                return "pinyin"
        candidates = SCRIPT_CANDIDATES["Latin"]
        language = detect(text, candidates, locale)
        if language in CONFUSED or language not in _common(candidates, locale):
            return by_markers(text, language, locale)
        return language
