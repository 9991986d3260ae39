"""Fuzzing the HTTP API: schemathesis generates requests from the OpenAPI schema (valid and
invalid), hypothesis throws arbitrary bodies, headers and text at it. Whatever comes in, the
gateway answers with its own JSON — never a server error."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.config import load_settings

_folder = Path(tempfile.mkdtemp(prefix="gateway-fuzz-"))
#: The embedded defaults, without rate limits (every fuzzed request comes from one client).
SETTINGS = load_settings(
    None,
    environ={
        "GATEWAY_STATE__DATABASE_URL": f"sqlite:///{_folder / 'state.db'}",
        "GATEWAY_LIMITS__PER_IP": "",
        "GATEWAY_LIMITS__PER_SESSION": "",
        "GATEWAY_LIMITS__FEEDBACK_PER_IP": "",
    },
)
APP = create_app(SETTINGS)
# The transcription route takes raw audio: fuzz it with bytes, a recording's start or noise.
for _audio in ("audio/webm", "audio/wav"):
    schemathesis.openapi.media_type(
        _audio, st.binary(max_size=2048) | st.just(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    )
#: Every check schemathesis has. A body over the size limit is refused before it is read
#: (413): that is a rejection of data the schema does not allow, as much as a 422 is.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
            }
        }
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@pytest.fixture(scope="module")
def started_app():
    with TestClient(APP) as client:  # runs the lifespan: knowledge index, back ends
        yield client


#: Rules of a question's text that JSON Schema cannot state (the schema says what it can: a
#: visible character): after invisible characters are removed it must not be empty, look
#: binary or be too long. Each is refused in the resident's language with its own code.
TEXT_RULES = {"empty_message", "binary_input", "message_too_long"}
#: The facade answers the last message, which must be the resident's (a schema cannot say
#: which item of a list comes last).
LAST_MESSAGE = "the last message must be the user's"


def refused_by_a_rule_of_the_text(response) -> bool:
    if response.status_code != 422:
        return False
    error = response.json()["error"]
    return error["code"] in TEXT_RULES or (
        error["code"] == "invalid_request" and error["message"].endswith(LAST_MESSAGE)
    )


@pytest.mark.slow  # every check on every operation: about two minutes
@schema.parametrize()
@hypothesis.settings(
    max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_the_schema_holds_no_server_error(case, started_app):
    response = case.call()
    if case.operation.path == "/api/v1/transcriptions" and response.status_code == 503:
        # With no transcriber configured (the embedded defaults) voice input is unavailable,
        # and says so in the resident's language; anything else would be a server error.
        assert response.json()["error"]["code"] == "transcription_unavailable"
        return
    if refused_by_a_rule_of_the_text(response):
        return
    case.validate_response(response)  # every check schemathesis has
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message"}


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
CHAT_BODIES = st.fixed_dictionaries(
    {"message": st.text(max_size=300)},
    optional={
        "session_id": st.text(max_size=70),
        "lang": st.text(max_size=12),
        "stream": st.booleans(),
        "agent": st.text(max_size=10),
        "correct": st.booleans(),
    },
) | st.dictionaries(st.sampled_from(["message", "lang", "stream", "x"]), JSON_VALUES, max_size=4)
RAW = st.binary(max_size=400)
PATHS = ["/api/v1/chat", "/api/v1/feedback", "/v1/chat/completions"]
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "",
        "application/json; charset=latin-1",
    ]
)


@hypothesis.settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(PATHS), body=CHAT_BODIES | JSON_VALUES)
def test_any_json_body_gets_an_answer_or_a_clear_error(started_app, path, body):
    response = started_app.post(path, json=body, headers={"Accept-Language": "en"})
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        error = response.json()["error"]
        assert error["code"] and error["message"]


@hypothesis.settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(PATHS), raw=RAW, content_type=CONTENT_TYPES)
def test_any_bytes_with_any_content_type_get_a_clear_error(started_app, path, raw, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = started_app.post(path, content=raw, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert response.json()["error"]["code"]


@hypothesis.settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    lang=st.text(max_size=40),
    accept=st.text(max_size=60).filter(lambda s: s.isprintable() and s.isascii()),
    method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH"]),
    path=st.sampled_from(["/api/v1/hot", "/api/v1/categories", "/api/v1/chat", "/api/v1/x/y"]),
)
def test_odd_query_strings_headers_and_methods(started_app, lang, accept, method, path):
    response = started_app.request(
        method, path, params={"lang": lang}, headers={"Accept-Language": accept}
    )
    assert response.status_code < 500, response.text
    json.loads(response.text)
