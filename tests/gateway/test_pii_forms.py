"""Every way residents write a personal number (issue 18): generated numbers with their real
check digits — resident IDs (GB 11643), Luhn-valid cards, mobiles, landlines — written with
random separators, one digit at a time, in full-width digits, with zero-width characters, in
Chinese numerals or a mix, inside Chinese text. Checked against :func:`gateway.safety.pii.mask`
itself and against what leaves or is kept: the requests a local OpenAI-compatible server
(tests/servers/openai.py) records, the unanswered and feedback rows, and the JSON log lines —
the access log's ``path`` included."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from urllib.parse import quote

from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.safety.pii import PROVINCES, id_check_digit, luhn_valid, mask
from tests.servers import openai as openai_server
from tests.servers import running

NUMERALS = {
    "0": "〇零", "1": "一幺", "2": "二两", "3": "三", "4": "四",
    "5": "五", "6": "六", "7": "七", "8": "八", "9": "九",
}  # fmt: skip
SEPARATORS = [" ", "  ", ".", "-", "/", " - ", "\u3000", "·", "－", "\u200b", "\u2060", ""]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad"]
#: Chinese text with no digit and no numeral in it, in which the numbers are embedded.
AROUND = st.text(
    alphabet=st.sampled_from(list("我的号码是请问怎么办理居住证社保卡，。？：、 abcXYZ"))
)


CHINESE = {numeral: digit for digit, numerals in NUMERALS.items() for numeral in numerals}
#: What the forms put between digits: left out when reading digits back.
BETWEEN = set("".join(SEPARATORS + INVISIBLE))


def digit_of(char: str) -> str | None:
    value = unicodedata.decimal(char, None)
    return CHINESE.get(char) if value is None else str(value)


def digit_like(text: str) -> str:
    """The digits a reader would see in ``text``, whatever their script (written here, not
    borrowed from the code under test)."""
    return "".join(digit for char in text if (digit := digit_of(char)) is not None)


def digit_runs(text: str) -> str:
    """``text``'s digits as runs: what the forms put between digits left out, anything else a
    ``|`` (so that the digits of a timestamp and of a request id never join)."""
    return "".join("" if char in BETWEEN else (digit_of(char) or "|") for char in text)


def luhn_completed(body: str) -> str:
    return next(body + last for last in "0123456789" if luhn_valid(body + last))


@st.composite
def numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A personal number's kind and its characters (digits, a final X, a leading +)."""
    kind = draw(st.sampled_from(["resident_id", "old_id", "mobile", "landline", "bank_card"]))
    digits = st.integers(0, 9).map(str)
    if kind in ("resident_id", "old_id"):
        province = draw(st.sampled_from(sorted(PROVINCES)))
        region = f"{province}{draw(st.integers(0, 9999)):04d}"
        born = draw(st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)))
        serial = f"{draw(st.integers(0, 999)):03d}"
        if kind == "old_id":
            return "resident_id", f"{region}{born:%y%m%d}{serial}"
        first17 = f"{region}{born:%Y%m%d}{serial}"
        return kind, first17 + id_check_digit(first17)
    if kind == "mobile":
        prefix = draw(st.sampled_from(["", "", "+86", "0086", "86"]))
        rest = "".join(draw(st.lists(digits, min_size=9, max_size=9)))
        return kind, f"{prefix}1{draw(st.sampled_from('3456789'))}{rest}"
    if kind == "landline":
        area = draw(st.sampled_from(["10", "21", "20", "755", "311", "571", "898"]))
        length = 8 if len(area) == 2 else draw(st.sampled_from([7, 8]))
        rest = "".join(draw(st.lists(digits, min_size=length - 1, max_size=length - 1)))
        subscriber = f"{draw(st.integers(2, 9))}{rest}"
        return kind, draw(st.sampled_from(["0", "+86", "0086"])) + area + subscriber
    prefix = draw(st.sampled_from(["62", "4", "5", "35", "37", "9"]))
    length = draw(st.integers(16, 19))
    missing = length - 1 - len(prefix)
    body = prefix + "".join(draw(st.lists(digits, min_size=missing, max_size=missing)))
    return kind, luhn_completed(body)


@st.composite
def written(draw: st.DrawFn) -> tuple[str, str, str]:
    """(kind, the number's bare characters, the number as a resident might type it)."""
    kind, number = draw(numbers())
    script = draw(st.sampled_from(["ascii", "full-width", "chinese", "mixed"]))
    grouping = draw(st.sampled_from(["none", "groups", "each digit", "random"]))
    separator = draw(st.sampled_from(SEPARATORS))
    out = []
    for index, char in enumerate(number):
        chosen = (
            draw(st.sampled_from(["ascii", "full-width", "chinese"]))
            if script == "mixed"
            else script
        )
        if char.isdigit() and chosen == "full-width":
            char = chr(0xFF10 + int(char))
        elif char.isdigit() and chosen == "chinese":
            char = draw(st.sampled_from(NUMERALS[char]))
        elif char == "X":
            char = draw(st.sampled_from("XxＸ"))
        between = {
            "none": False,
            "groups": index in (3, 7, 11, 15),
            "each digit": True,
            "random": draw(st.booleans()),
        }[grouping]
        if index and between:
            out.append(separator)
        if index and draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from(INVISIBLE)))
        out.append(char)
    return kind, number, "".join(out)


def assert_hidden(text: str, number: str) -> None:
    """No seven digits of ``number`` in a row in ``text`` (half a number is not masked)."""
    digits, seen = digit_like(number), digit_runs(text)
    assert not any(digits[i : i + 7] in seen for i in range(len(digits) - 6)), text


@settings(max_examples=200, deadline=None)
@given(before=AROUND, form=written(), after=AROUND)
def test_every_written_form_is_masked(before, form, after):
    kind, _, typed = form
    masked = mask(f"{before}{typed}{after}")
    # an 18-digit card may have an ID's shape (the check digits decide); the rest are themselves
    assert masked.kinds == [kind] or {kind, *masked.kinds} <= {"resident_id", "bank_card"}, typed
    assert digit_like(masked.text) == "", (typed, masked.text)
    assert mask(masked.text).text == masked.text  # masking twice changes nothing


OPTIONS = 'base_url = "{url}/v1"\nmodel = "m"\nbreaker_failures = 1000000'


def test_no_written_form_leaves_the_gateway_or_is_kept(serve_app, json_logs, monkeypatch):
    """One gateway for all examples (an app per example would take minutes): each example
    asks a question, sends earlier turns to the OpenAI facade, rates with a comment and requests
    a path holding the number; then every request the back end got, every unanswered and
    feedback row, the admin exports of both and every JSON log line is searched for its
    digits."""
    monkeypatch.setenv("ASSISTANT_ADMIN_TOKEN", "operator-token")
    admin = {"Authorization": "Bearer operator-token"}
    toml = (
        '[[backends]]\nname = "engine"\ntype = "openai"\n{options}\n\n'
        '[[routes]]\nbackends = ["engine"]\n'
    )
    with running(openai_server.create_app) as server, start_blocking_portal() as portal:
        server.behaviour.status = 503  # the back end fails: every question is unanswered
        app = serve_app(
            toml.format(options=OPTIONS.format(url=server.url)),
            GATEWAY_LIMITS__PER_SESSION="",
            GATEWAY_LIMITS__PER_IP="",
            GATEWAY_KNOWLEDGE__EMBEDDER="none",  # the numbers, not retrieval, are tested
        )
        with portal.wrap_async_context_manager(app) as client:
            service = client.chat

            @settings(
                max_examples=25,
                deadline=None,
                # each example is a few requests: shrinking would take minutes
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.function_scoped_fixture],
            )
            @given(form=written(), earlier=written(), around=AROUND)
            def check(form, earlier, around):
                _, number, typed = form
                _, earlier_number, earlier_typed = earlier
                asked = len(server.requests)
                logged = len(json_logs.getvalue())
                question = f"{around}我的号码{typed}，居住证怎么办理？"
                post = client.post
                portal.call(lambda: post("/api/v1/chat", json={"message": question}))
                history = [
                    {"role": "user", "content": f"号码是{earlier_typed}"},
                    {"role": "assistant", "content": f"好的，{earlier_typed}已记录"},
                    {"role": "user", "content": question},
                ]
                portal.call(lambda: post("/v1/chat/completions", json={"messages": history}))
                rating = {"message_id": "m" * 32, "helpful": False, "comment": question}
                portal.call(lambda: post("/api/v1/feedback", json=rating))
                portal.call(lambda: client.get(f"/api/v1/x/{quote(typed)}?q={quote(typed)}"))
                rows = portal.call(service.store.unanswered) + portal.call(service.store.feedback)
                exports = [
                    portal.call(lambda path=path: client.get(path, headers=admin)).text
                    for path in ("/api/v1/admin/unanswered.csv", "/api/v1/admin/feedback.csv")
                ]
                received = json.dumps(server.requests[asked:], ensure_ascii=False)
                assert len(server.requests) > asked, "the question reached the back end"
                assert "居住证怎么办理" in exports[0] and "居住证怎么办理" in exports[1]
                for text in (received, str(rows), *exports, json_logs.getvalue()[logged:]):
                    assert_hidden(text, number)
                    assert_hidden(text, earlier_number)
                assert "[" in received

            check()
