"""Issue 18's output payloads through the real paths: a language model (tests/servers/openai.py,
OpenAI's streamed chunks over HTTP) writes each payload, whole and in pieces of 1, 3 and 7
characters, and what a resident's client gets on the JSON API, its event stream and the
OpenAI facade (blocking and streamed) holds nothing a browser would run, at every point of
the stream."""

from __future__ import annotations

import html
import json
import re

import pytest

from gateway.safety.output import sanitize_markdown
from tests.gateway.test_faults import events_of
from tests.gateway.test_output_safety import rendered
from tests.gateway.test_safety_api import gateway
from tests.servers import openai as openai_server
from tests.servers import running

#: What the outside probe sent (issue 18, item 4), in the words around it a model would write.
PAYLOADS = [
    "请点击 [点我](javascript&colon;alert(1)) 办理。",
    "请点击 [点我](javascript&#58;alert(1)) 办理。",
    "请点击 [点我](javascript&#x3A;alert(1)) 办理。",
    "请点击 [点我](JavaScript&#0000058;alert(1)) 办理。",
    "请点击 [点我](&#x6A;avascript&colon;alert(1)) 办理。",
    "请点击 [点我](javascript&amp;colon;alert(1)) 办理。",  # nested: decoded twice
    "请看 ![图](javascript&colon;alert(1)) 示意。",
    "请看 ![图](data&colon;image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+) 示意。",
    "请点击 [点我](data&colon;text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) 办理。",
    "请点击 [点我](vbscript&colon;msgbox(1)) 办理。",
    "[点我][1] 办理。\n\n[1]: javascript&colon;alert(1)",
    "<svg/onload=alert(1)>",
    "办理居住证<svg/onload=alert(1)>请带身份证。",
    "<img src=x onerror=alert(1)>",
    "办理居住证 <img src=x onerror=alert(1)> 请带身份证。",
    "办理居住证 &lt;img src=x onerror=alert(1)&gt; 请带身份证。",
]
_ADDRESS = re.compile(r"""(?:href|src|data|action)\s*=\s*["']?([^"'\s>]*)""")
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=")


_ELEMENT = re.compile(r"<(script|svg|img|iframe|object|embed|math)\b", re.IGNORECASE)


def harmless(markdown: str) -> bool:
    """Nothing in ``markdown`` runs when a permissive renderer draws it (raw HTML on, every
    address linked) and a browser reads the result, nor when a client puts it into a page as
    it is."""
    page = rendered(markdown)
    for html_ in (page, markdown):
        if _ELEMENT.search(html_) or _HANDLER.search(html_):
            return False
    for address in _ADDRESS.findall(page):
        decoded = address
        for _ in range(8):
            decoded = html.unescape(decoded)
        decoded = re.sub(r"[\x00-\x20\x7f]+", "", decoded).lower()
        if decoded.startswith(("javascript:", "vbscript:", "data:")):
            return False
    return True


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_is_dangerous_before_cleaning_and_harmless_after(payload):
    # The check can fail: a lax renderer would run every payload as written.
    assert not harmless(payload) or "&lt;" in payload
    assert harmless(sanitize_markdown(payload))
    assert "办理" in sanitize_markdown(payload) or "办理" not in payload  # the words stay


def model_route(url: str) -> str:
    return f"""
[[backends]]
name = "llm"
type = "openai"
base_url = "{url}/v1"
model = "m"

[[routes]]
backends = ["llm"]
"""


def shown_states(events: list[tuple[str, dict]]) -> list[str]:
    """What the resident's screen holds after each event of the gateway's stream."""
    shown, states = "", []
    for name, data in events:
        if name == "delta":
            shown += data["text"]
        elif name == "replace":
            shown = data["text"]
        elif name == "done":
            shown = data["answer"]
        states.append(shown)
    return states


def facade_states(body: str) -> tuple[list[str], str]:
    """The OpenAI facade's stream: what a client that knows ``replace`` shows after each
    chunk, and what a plain OpenAI client (which appends every chunk) ends with."""
    shown, appended, states = "", "", []
    for block in body.strip().split("\n\n"):
        data = block.removeprefix("data: ")
        if data == "[DONE]":
            break
        chunk = json.loads(data)
        content = chunk["choices"][0]["delta"].get("content") or ""
        shown = content if chunk.get("replace") else shown + content
        appended += content
        states.append(shown)
    return states, appended


@pytest.mark.anyio
async def test_no_payload_reaches_a_client_whole_or_in_pieces(make_settings):
    with running(openai_server.create_app) as llm:
        async with gateway(make_settings, model_route(llm.url)) as client:
            for payload in PAYLOADS:
                for size in (len(payload), 1, 3, 7):
                    llm.behaviour.answer, llm.behaviour.chunk_chars = payload, size
                    where = (payload, size)
                    ask = {"message": "居住证怎么办理"}
                    plain = await client.post("/api/v1/chat", json=ask)
                    assert plain.status_code == 200, where
                    assert harmless(plain.json()["answer"]), (where, plain.json()["answer"])
                    streamed = await client.post("/api/v1/chat", json={**ask, "stream": True})
                    events = events_of(streamed.text)
                    assert events[-1][0] == "done", where
                    for state in shown_states(events):
                        assert harmless(state), (where, state)
                    asked = {"messages": [{"role": "user", "content": "居住证怎么办理"}]}
                    facade = await client.post("/v1/chat/completions", json=asked)
                    answer = facade.json()["choices"][0]["message"]["content"]
                    assert harmless(answer), (where, answer)
                    chunks = await client.post(
                        "/v1/chat/completions", json={**asked, "stream": True}
                    )
                    states, appended = facade_states(chunks.text)
                    for state in [*states, appended]:
                        assert harmless(state), (where, state)
            assert len(llm.requests) == len(PAYLOADS) * 4 * 4
