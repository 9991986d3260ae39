"""Typo correction: homophones from pinyin input (社宝 → 社保), fuzzy pinyin from southern
accents (身份增 → 身份证: zheng/zeng) and look-alike characters (户口薄 → 户口簿).

Candidates: for each run of Chinese characters that is not a known word, the words of the
lexicon (the government terms, the knowledge base's words, common words of jieba's dictionary)
that sound the same (same or fuzzy pinyin) or differ by one look-alike character. Each is
scored as a noisy channel: how much more probable the whole sentence becomes under the word
frequencies (best segmentation, knowledge-base character pairs) minus the cost of the kind of
slip. The best candidates (that lie apart) are applied when they gain more than the threshold,
and the search runs again until nothing clears it, so the result is a fixed point: correcting it
again changes nothing. Numbers, Latin words and probable person names are never touched.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict

from gateway.understanding.base import Analysis, Correction, Stage
from gateway.understanding.lexicon import (
    COHESION,
    LONG_WORD,
    Lexicon,
    base_lexicon,
    data_lines,
    fuzzy,
    is_han,
    long_word_stems,
)

#: Readings combined per window at most (characters with several readings multiply them).
MAX_KEYS = 8
#: Stretches of text whose words are remembered (a few megabytes at most).
WORDS_CACHE = 50_000
#: How far below the threshold a candidate's quick score may be and still be scored exactly.
RESCORE_MARGIN = 3.0
#: Particles that end a question as typed: never corrected there (医保吗 stays, 号吗 stays).
SENTENCE_PARTICLES = frozenset("的了吗呢吧啊呀哦嘛么")


class CorrectOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Log-probability gain (nats) a correction must bring, after its cost, to be applied.
    threshold: float = 3.0
    #: Costs (nats) of each kind of slip: a same-sound character is the commonest pinyin slip.
    homophone_cost: float = 1.0
    fuzzy_cost: float = 3.0
    lookalike_cost: float = 2.0
    #: Added when the typed character has the intended sound only as a rare reading (前 jian).
    rare_reading_cost: float = 1.5
    #: Common words of jieba's dictionary at least this frequent are correction targets too.
    min_target_frequency: int = 100
    #: Longest run of characters considered as one word.
    max_window: int = 8
    #: A run that is itself a word at least this frequent is never changed.
    known_word_frequency: int = 100
    #: Questions up to this many Chinese characters are held to ``threshold``; longer text
    #: offers more places for a chance gain, so its bar rises by ``long_text_bar`` nats for
    #: each e-fold of length beyond it.
    short_text: int = 15
    long_text_bar: float = 1.0
    #: Extra nats a correction into a word outside the service vocabulary (curated terms,
    #: question frames, the knowledge base's question words) must gain, scaled by how little
    #: of the rest of the text is service vocabulary: nothing in a question about the service,
    #: all of it in a news sentence or a story.
    general_word_bar: float = 4.0


@dataclass(frozen=True, slots=True)
class Candidate:
    start: int
    end: int
    replacement: str
    kind: str
    gain: float


class Targets:
    """The words correction may produce, by fuzzy pinyin."""

    def __init__(self, words: Iterable[str], lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.by_sound: dict[str, list[str]] = {}
        self.prefixes: set[str] = set()
        self.words: set[str] = set()
        for word in words:
            syllables = lexicon.pinyin(word)
            if syllables is None or not all(is_han(char) for char in word):
                continue
            self.words.add(word)
            sounds = [fuzzy(syllable) for syllable in syllables]
            self.by_sound.setdefault(" ".join(sounds), []).append(word)
            for end in range(1, len(sounds) + 1):
                self.prefixes.add(" ".join(sounds[:end]))

    def plus(self, other: Targets) -> Targets:
        """Both sets of targets in one (the shared base is copied, not changed)."""
        merged = Targets((), self.lexicon)
        merged.words = self.words | other.words
        merged.prefixes = self.prefixes | other.prefixes
        merged.by_sound = dict(self.by_sound)
        for key, words in other.by_sound.items():
            merged.by_sound[key] = [*merged.by_sound.get(key, ()), *words]
        return merged


@cache
def _base_targets(min_frequency: int) -> Targets:
    lexicon = base_lexicon()
    common = (
        word
        for word, count in lexicon.frequency.items()
        if count >= min_frequency and 2 <= len(word) <= 4
    )
    return Targets([*lexicon.domain, *common], lexicon)


@cache
def lookalikes() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for line in data_lines("lookalike.txt"):
        group = set(line.split())
        for char in group:
            table.setdefault(char, set()).update(group - {char})
    return {char: frozenset(others) for char, others in table.items()}


@cache
def function_words() -> frozenset[str]:
    return frozenset(word for line in data_lines("function_words.txt") for word in line.split())


@cache
def surnames() -> frozenset[str]:
    return frozenset(name for line in data_lines("surnames.txt") for name in line.split())


@cache
def _name_pattern() -> re.Pattern[str]:
    names = "|".join(sorted(surnames(), key=len, reverse=True))
    before = "我叫|名叫|叫做|姓名|名字是|名字叫|本人|老人叫|孩子叫|户主|申请人|患者|家属"
    after = "先生|女士|同志|老师|医生|阿姨|大爷|大妈|师傅|老人|本人"
    return re.compile(
        rf"(?:(?:{before})[:：是为]?\s*((?:{names})[\u4e00-\u9fff]{{1,2}}))"
        rf"|((?:{names})[\u4e00-\u9fff]{{0,2}})(?={after})"
    )


_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")


def protected_names(text: str) -> list[tuple[int, int]]:
    """Spans of probable person names: a surname and a given name where a person is named."""
    spans = []
    for match in _name_pattern().finditer(text):
        group = 1 if match.group(1) else 2
        spans.append((match.start(group), match.end(group)))
    return spans


#: Quoted text (a notice, a slogan, a title): the resident copies it as written.
_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|《[^》]*》|\"[^\"]*\"|‘[^’]*’")
#: A street and house number (和平路12号, 建国路八十八号): its name is a proper name.
_ADDRESS = re.compile(
    r"[\u4e00-\u9fff]{2,4}(?:路|街|巷|道|弄|胡同)[\d〇零一二三四五六七八九十百]+号"
)


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Spans no correction may touch: probable names, quoted text and street addresses."""
    spans = protected_names(text)
    spans += [match.span() for match in _QUOTED.finditer(text)]
    spans += [match.span() for match in _ADDRESS.finditer(text)]
    return spans


class Corrector:
    def __init__(self, lexicon: Lexicon, options: CorrectOptions) -> None:
        self.lexicon = lexicon
        self.options = options
        base = _base_targets(options.min_target_frequency)
        self.targets = base.plus(
            Targets((word for word in lexicon.extra if word not in base.words), lexicon)
        )
        # Where nothing looks broken, only a domain term may be what was meant: a smaller table.
        self.domain_targets = Targets(lexicon.domain, lexicon)
        self.lookalikes = lookalikes()
        self._longest_protected = max(map(len, lexicon.protected), default=0)
        # Look-alike swaps are looked for in windows up to this long even when no word sounds
        # like the window (the swapped character sounds different).
        self.longest_lookalike = 4
        self._sound_cache: dict[str, tuple[str, ...]] = {}
        # Lookups that depend on nothing but their arguments, made at every position of every
        # question: remembered in functools' LRU (C; a cachetools cache costs several times a
        # dict lookup there, bench/request_profile.py).
        self._words_at = functools.lru_cache(maxsize=WORDS_CACHE)(self._words_starting)
        self._candidates_at = functools.lru_cache(maxsize=WORDS_CACHE)(self._window_candidates)
        # Looked up for every position of every question: found once.
        self._extra, self._frequency = lexicon.extra.get, lexicon.frequency.get
        self._log_total = math.log(lexicon.total)
        self._long_word_stems = lexicon.derived("long_word_stems", long_word_stems)
        # The bonus of each pair of characters, worked out once rather than on every lookup
        # (the same expression, so the same floats).
        self.cohesion: dict[str, float] = {
            pair: COHESION * math.log(1 + count) for pair, count in lexicon.bigrams.items() if count
        }
        # The same bonuses by first and by second character: a candidate's neighbour on each
        # side is known before the candidate, and most neighbours pair with nothing.
        self._pairs_after: dict[str, dict[str, float]] = {}
        self._pairs_before: dict[str, dict[str, float]] = {}
        for (first, second), bonus in self.cohesion.items():
            self._pairs_after.setdefault(first, {})[second] = bonus
            self._pairs_before.setdefault(second, {})[first] = bonus
        self.costs: dict[str, float] = {
            "homophone": options.homophone_cost,
            "fuzzy pinyin": options.fuzzy_cost,
            "look-alike": options.lookalike_cost,
        }

    # -- the language model ---------------------------------------------------------------

    def _lattice(self, text: str) -> tuple[list[list[tuple[int, float]]], list[float]]:
        """Every word of ``text``, looked up once (``words[start] = [(length, log
        probability)]``), and the knowledge base's bonus for the characters on either side of
        each boundary."""
        longest = self.lexicon.max_word_length
        words_at = self._words_at
        words: list[list[tuple[int, float]]] = []
        for start in range(len(text)):
            # The words starting here depend only on the next ``longest`` characters: the same
            # in every pass over a question, and in every question that shares them. Kept by
            # length, not end, so the very list serves wherever the characters recur.
            words.append(words_at(text[start : start + longest]))
        cohesion = self.cohesion.get
        bonus = [0.0, *(cohesion(text[i - 1 : i + 1], 0.0) for i in range(1, len(text))), 0.0]
        return words, bonus

    def _words_starting(self, ahead: str) -> list[tuple[int, float]]:
        """The words ``ahead`` starts with: (length, log probability); an unknown character
        counts as a word seen once."""
        extra, frequency, log_total = self._extra, self._frequency, self._log_total
        found = []
        # Words of LONG_WORD characters or more are rare: looked for only where one starts.
        longest = len(ahead) if ahead[: LONG_WORD - 1] in self._long_word_stems else LONG_WORD - 1
        for length in range(1, min(len(ahead), longest) + 1):
            word = ahead[:length]
            count = extra(word) or frequency(word)
            if count:
                found.append((length, math.log(count) - log_total))
            elif length == 1:
                found.append((length, -log_total))
        return found

    def _score_replaced(
        self, text: str, forward: list[float], start: int, end: int, replacement: str
    ) -> float:
        """Log probability of the best segmentation of ``text`` with ``text[start:end]``
        replaced (as long as it), given ``forward``, ``text``'s best prefix scores: those up to
        ``start`` stand (no word or pair before it changes), so only words reaching past it
        are weighed again — the same sums, so the same float as segmenting anew."""
        changed = text[:start] + replacement + text[end:]
        longest = self.lexicon.max_word_length
        words_at, cohesion = self._words_at, self.cohesion.get
        best = forward[: start + 1] + [-math.inf] * (len(changed) - start)
        for position in range(max(0, start - longest + 1), len(changed)):
            found = words_at(changed[position : position + longest])
            bonus = cohesion(changed[position - 1 : position + 1], 0.0) if position else 0.0
            base = best[position] + bonus
            for length, score in found:
                reach = position + length
                if reach > start and base + score > best[reach]:
                    best[reach] = base + score
        return best[-1]

    def _segment(self, text: str) -> tuple[list[float], list[float], list[int]]:
        """Best log probabilities of every prefix and suffix, and the best path's word starts."""
        words, bonus = self._lattice(text)
        size = len(text)
        forward = [0.0] + [-math.inf] * size
        back = [0] * (size + 1)
        for start in range(size):
            base = forward[start] + bonus[start]
            for length, score in words[start]:
                end = start + length
                if base + score > forward[end]:
                    forward[end] = base + score
                    back[end] = start
        backward = [-math.inf] * size + [0.0]
        for start in range(size - 1, -1, -1):
            best = -math.inf
            for length, score in words[start]:
                end = start + length
                total = score + backward[end] + bonus[end]
                if total > best:
                    best = total
            backward[start] = best
        starts = []
        position = size
        while position > 0:
            position = back[position]
            starts.append(position)
        return forward, backward, starts[::-1]

    # -- candidates -----------------------------------------------------------------------

    def _sounds(self, char: str) -> tuple[str, ...]:
        sounds = self._sound_cache.get(char)
        if sounds is None:
            readings = self.lexicon.readings.get(char, ())
            sounds = tuple(dict.fromkeys(fuzzy(reading) for reading in readings))
            self._sound_cache[char] = sounds
        return sounds

    def _kind(self, typed: str, intended: str) -> tuple[str, float] | None:
        """The kind of slip that turns ``intended`` into ``typed``, and its cost."""
        readings = self.lexicon.readings
        kinds = []
        cost = 0.0
        for a, b in zip(typed, intended, strict=True):
            if a == b:
                continue
            typed_readings = readings.get(a, ())
            shared = set(typed_readings) & set(readings.get(b, ()))
            if shared:
                kinds.append("homophone")
                cost += self.costs["homophone"]
                if typed_readings[0] not in shared:
                    cost += self.options.rare_reading_cost
            elif set(self._sounds(a)) & set(self._sounds(b)):
                kinds.append("fuzzy pinyin")
                cost += self.costs["fuzzy pinyin"]
            elif b in self.lookalikes.get(a, ()):
                kinds.append("look-alike")
                cost += self.costs["look-alike"]
            else:
                return None
        order = ("look-alike", "fuzzy pinyin", "homophone")
        kind = next((kind for kind in order if kind in kinds), None)
        return (kind, cost) if kind else None

    def _candidates(
        self, text: str, start: int, stop: int, suspicious: list[bool], swappable: list[int]
    ) -> list[tuple[int, str]]:
        """Words that ``text[start:start + length]`` may have been meant as, with their
        ``length``, each once, in the order found: words that sound alike, and words one
        look-alike character away (at a ``suspicious`` position; ``swappable`` lists those
        that have look-alikes)."""
        targets = self.targets if any(suspicious[start:stop]) else self.domain_targets
        by_sound, prefixes, words = targets.by_sound, targets.prefixes, targets.words
        sound_cache = self._sound_cache
        # The window's look-alike swaps, by offset: found once, not for every length of window.
        lookalikes = self.lookalikes
        swaps = (
            [
                (index - start, lookalikes[text[index]])
                for index in swappable
                if start <= index < stop
            ]
            if swappable
            else swappable
        )
        found: dict[tuple[int, str], None] = {}
        keys: list[str] = []
        for end in range(start + 1, stop + 1):
            char = text[end - 1]
            sounds = sound_cache.get(char)
            if sounds is None:
                sounds = self._sounds(char)
            if not sounds:
                break
            length = end - start
            if length == 1:
                keys = [sound for sound in sounds[:MAX_KEYS] if sound in prefixes]
            elif len(keys) == 1 and len(sounds) == 1:  # the usual case: nothing to combine
                key = f"{keys[0]} {sounds[0]}"
                keys = [key] if key in prefixes else []
            elif keys:
                combined = [f"{key} {sound}" for key in keys for sound in sounds]
                keys = [key for key in combined[:MAX_KEYS] if key in prefixes]
            if length >= 2:
                window = text[start:end]
                for key in keys:
                    for word in by_sound.get(key, ()):
                        if word != window:
                            found[length, word] = None
                for offset, others in swaps:
                    if offset >= length:
                        break
                    for other in others:
                        word = window[:offset] + other + window[offset + 1 :]
                        if word in words:
                            found[length, word] = None
            # With no sound left to follow, only a look-alike swap may still give a word.
            if not keys and (not swaps or length >= self.longest_lookalike):
                break
        return list(found)

    def _candidates_from(
        self, text: str, start: int, stop: int, suspicious: list[bool], swappable: list[int]
    ) -> list[tuple[int, str, float]]:
        """``_candidates`` with the log of each word's count, remembered: they depend on nothing
        but the characters and which of them look broken, the same in every pass over a
        question."""
        return self._candidates_at(text[start:stop], bytes(suspicious[start:stop]))

    def _window_candidates(self, window: str, flags: bytes) -> list[tuple[int, str, float]]:
        suspicious = [bool(flag) for flag in flags]
        lookalikes = self.lookalikes
        swappable = [i for i, char in enumerate(window) if flags[i] and char in lookalikes]
        extra, frequency = self._extra, self._frequency
        return [
            (length, word, math.log(extra(word) or frequency(word) or 1))
            for length, word in self._candidates(window, 0, len(window), suspicious, swappable)
        ]

    def candidates(self, text: str, locked: list[tuple[int, int]]) -> list[Candidate]:
        """Every correction that clears the threshold (at most one per window)."""
        options = self.options
        forward, backward, starts = self._segment(text)
        total = forward[-1]
        lexicon = self.lexicon
        log_total = self._log_total
        pieces = list(zip(starts, [*starts[1:], len(text)], strict=True))
        names = self._probable_names(text, pieces)
        locked = list(locked)
        # A slip breaks a word into pieces: a correction must mend a piece of one character
        # (or give a domain term). A function word standing alone (吗, 给, 才) is changed only
        # along with such a piece: folding it into the word before it (医保吗 → 医保码)
        # would change what the question says.
        single = [False] * len(text)
        function = [False] * len(text)
        function_set = function_words()
        for first, after in pieces:
            if after - first == 1:
                if text[first] in function_set:
                    function[first] = True
                    ends_question = after == len(text) or not is_han(text[after])
                    if ends_question and text[first] in SENTENCE_PARTICLES:
                        locked.append((first, after))
                else:
                    single[first] = True
        suspicious = [a or b for a, b in zip(single, function, strict=True)]
        # The positions inside a common word of the best reading (一个 in 补/一个): a window
        # that starts or ends there takes a character out of a word the resident typed
        # whole (补一 → 不一). A slip may do that (居住正在哪: 正在; 申清末: 清末), but then into
        # what residents ask this service about (居住证, 申请): into any other word it is
        # more likely a chance reading of correct text.
        inside = [False] * (len(text) + 1)
        for first, after in pieces:
            if (
                after - first >= 2
                and lexicon.freq(text[first:after]) >= options.known_word_frequency
            ):
                inside[first + 1 : after] = [True] * (after - first - 1)
        bar, general_bar = self._bars(text, pieces)
        fixed = self._protected_positions(text)
        lookalikes = self.lookalikes
        swappable = [i for i, char in enumerate(text) if suspicious[i] and char in lookalikes]
        accepted: dict[tuple[int, int], Candidate] = {}
        cut = options.threshold - RESCORE_MARGIN
        # The pair bonuses each position's character gives a word before (after) it.
        pairs_after, pairs_before = self._pairs_after.get, self._pairs_before.get
        before_at = [*map(pairs_before, text), None]
        for run in _HAN_RUN.finditer(text):
            for start in range(run.start(), run.end() - 1):
                stop = min(run.end(), start + options.max_window)
                after = pairs_after(text[start - 1]) if start else None
                found = self._candidates_from(text, start, stop, suspicious, swappable)
                for length, replacement, log_count in found:
                    end = start + length
                    # The gain before the slip's cost first: it rules most candidates out.
                    score = forward[start] + backward[end] + log_count - log_total
                    if after:
                        bonus = after.get(replacement[0])
                        if bonus:
                            score += bonus
                    before = before_at[end]
                    if before:
                        bonus = before.get(replacement[-1])
                        if bonus:
                            score += bonus
                    # That score keeps the window as one word; the whole sentence may read
                    # better cut otherwise (什么时候发 + 方 → 什么时候 + 发放), so a candidate
                    # near the threshold is scored exactly.
                    if score - total < cut:
                        continue
                    if any(start < b and a < end for a, b in locked):
                        continue
                    window = text[start:end]
                    changed = sum(a != b for a, b in zip(window, replacement, strict=True))
                    if changed > (1 if len(window) <= 3 else 2):
                        continue
                    mends = any(single[start:end])
                    changes_function_word = any(
                        function[i] and window[i - start] != replacement[i - start]
                        for i in range(start, end)
                    )
                    domain = replacement in lexicon.domain
                    if not mends and (changes_function_word or not domain):
                        continue
                    # A probable name is left alone unless it sounds like a service term.
                    if not domain and any(start < b and a < end for a, b in names):
                        continue
                    if lexicon.freq(window) >= options.known_word_frequency:
                        continue
                    service = replacement in lexicon.service
                    if (inside[start] or inside[end]) and not service:
                        continue
                    # A curated term in the text stays as written, whatever reads better.
                    if any(
                        fixed[i] and window[i - start] != replacement[i - start]
                        for i in range(start, end)
                    ):
                        continue
                    if self._attested(text, run.start(), run.end(), start, end):
                        continue
                    slip = self._kind(window, replacement)
                    if slip is None:
                        continue
                    kind, cost = slip
                    need = bar if service else general_bar(start, end)
                    if score - total < need + cost:
                        exact = self._score_replaced(text, forward, start, end, replacement)
                        score = max(score, exact)
                    gain = score - total - cost
                    known = accepted.get((start, end))
                    if gain >= need and (known is None or gain > known.gain):
                        accepted[start, end] = Candidate(start, end, replacement, kind, gain)
        return list(accepted.values())

    def _bars(
        self, text: str, pieces: list[tuple[int, int]]
    ) -> tuple[float, Callable[[int, int], float]]:
        """The gain a correction of ``text`` must bring: into the service vocabulary, and (a
        function of the window) into any other word.

        The more characters, the more windows may gain by chance: past ``short_text`` the bar
        rises with the log of the length. A correction into a general word must also clear
        ``general_word_bar`` times the share of the rest of the text (the best reading, the
        window left out) that is not service vocabulary: far from what residents ask here,
        a sentence that reads a little better corrected is more likely right as typed."""
        options = self.options
        service = self.lexicon.service
        size = len(text)
        in_service = [False] * size
        for first, after in pieces:
            if after - first >= 2 and text[first:after] in service:
                in_service[first:after] = [True] * (after - first)
        covered, han = [0] * (size + 1), [0] * (size + 1)
        for i, char in enumerate(text):
            covered[i + 1] = covered[i] + in_service[i]
            han[i + 1] = han[i] + is_han(char)
        bar = options.threshold
        if han[-1] > options.short_text:
            bar += options.long_text_bar * math.log(han[-1] / options.short_text)

        def general(start: int, end: int) -> float:
            rest = han[-1] - (han[end] - han[start])
            share = (covered[-1] - (covered[end] - covered[start])) / rest if rest else 0.0
            return bar + options.general_word_bar * (1.0 - share)

        return bar, general

    def _protected_positions(self, text: str) -> list[bool]:
        """The characters of ``text`` that belong to a curated term written out in it."""
        protected = self.lexicon.protected
        longest = self._longest_protected
        fixed = [False] * len(text)
        for start in range(len(text) - 1):
            for end in range(start + 2, min(len(text), start + longest) + 1):
                if text[start:end] in protected:
                    fixed[start:end] = [True] * (end - start)
        return fixed

    def _attested(self, text: str, first: int, after: int, start: int, end: int) -> bool:
        """Whether the window ``text[start:end]`` with a neighbour on each side (within the
        run of Chinese characters ``first``..``after``) occurs in the knowledge base's own
        text: the service writes it so, and what the service writes is no slip."""
        attested = self.lexicon.attested
        if not attested:
            return False
        return text[max(first, start - 1) : min(after, end + 1)] in attested

    def _probable_names(self, text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Probable person names in the best reading: a surname standing alone followed by one
        or two characters standing alone (李/明/的 → 李明). jieba's ``nr`` tags are too noisy
        to use (they include 养老)."""
        spans = []
        family, function = surnames(), function_words()
        for index, (first, after) in enumerate(pieces):
            if after - first == 1 and text[first] in family:
                end = after
                for following_first, following_after in pieces[index + 1 : index + 3]:
                    single_piece = following_after - following_first == 1
                    if not single_piece or text[following_first] in function:
                        break
                    end = following_after
                if end > after:
                    spans.append((first, end))
        return spans

    def correct(self, text: str) -> tuple[str, list[Correction]]:
        """``text`` corrected until no correction clears the threshold, and the corrections.

        Each pass applies the best corrections that lie apart (a character at least between
        them), best first; corrections keep the length, so spans stay valid."""
        corrections = []
        locked = protected_spans(text)
        for _ in range(len(text)):
            found = sorted(self.candidates(text, locked), key=lambda c: -c.gain)
            if not found:
                break
            chosen: list[Candidate] = []
            for candidate in found:
                if all(
                    candidate.end < other.start or other.end < candidate.start for other in chosen
                ):
                    chosen.append(candidate)
            for candidate in chosen:
                corrections.append(
                    Correction(
                        stage="correct",
                        original=text[candidate.start : candidate.end],
                        replacement=candidate.replacement,
                        start=candidate.start,
                        end=candidate.end,
                        reason=candidate.kind,
                    )
                )
                text = text[: candidate.start] + candidate.replacement + text[candidate.end :]
        return text, corrections


class Correct(Stage):
    """Correct typing slips in Chinese questions (Simplified, after conversion)."""

    name = "correct"
    Options = CorrectOptions
    options: CorrectOptions
    corrective = True
    uses_lexicon = True

    def learn(self, lexicon: Lexicon) -> None:
        self.corrector = Corrector(lexicon, self.options)

    def forget(self) -> None:
        """Drop remembered lookups (benchmarks measure questions as if seen for the first time)."""
        self.corrector._words_at.cache_clear()
        self.corrector._candidates_at.cache_clear()

    def apply(self, analysis: Analysis) -> None:
        if analysis.language not in {"zh", "zh-Hant", "yue", "pinyin"}:
            return
        corrected, corrections = self.corrector.correct(analysis.text)
        if corrections:
            reasons = ", ".join(f"{c.original}→{c.replacement} ({c.reason})" for c in corrections)
            analysis.update(self.name, corrected, reasons)
            analysis.corrections += corrections
        else:
            analysis.update(self.name, corrected)
