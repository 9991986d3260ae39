import pytest

from gateway.errors import GatewayError
from gateway.understanding.base import Analysis
from gateway.understanding.sanitize import Sanitize, SanitizeOptions


def run(text: str, **options) -> Analysis:
    analysis = Analysis(original=text, text=text)
    Sanitize(SanitizeOptions(**options)).apply(analysis)
    return analysis


def test_invisible_and_control_characters_are_removed():
    analysis = run("居住\u200b证\u202e怎么\x07办理\r\n？")
    assert analysis.text == "居住证怎么办理 ？"
    assert analysis.trace[0].changed and analysis.trace[0].reason


def test_clean_text_passes_unchanged():
    analysis = run("居住证怎么办理")
    assert analysis.text == "居住证怎么办理"
    assert not analysis.trace[0].changed and analysis.trace[0].reason == ""


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200b", "\n\t"])
def test_empty_is_refused(text):
    with pytest.raises(GatewayError) as caught:
        run(text)
    assert caught.value.code == "empty_message"


@pytest.mark.parametrize(
    "text",
    ["PK\x03\x04\x14\x00\x06\x00", "abc\x00def", "\ufffd\ufffd\ufffd\ufffdJFIF", "\ue000\ue001ab"],
)
def test_binary_is_refused(text):
    with pytest.raises(GatewayError) as caught:
        run(text)
    assert caught.value.code == "binary_input"


def test_length_is_capped_with_the_limit_in_the_message():
    with pytest.raises(GatewayError) as caught:
        run("问" * 51, max_chars=50)
    assert caught.value.code == "message_too_long"
    assert "50" in caught.value.message("zh-CN")
    assert run("问" * 50, max_chars=50).text == "问" * 50
