"""The shapes of the HTTP API's requests and responses (documented at /docs)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
LanguageTag = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,3}$")
]


#: What the schema says of a question's text: the understanding pipeline (sanitize) refuses an
#: empty one, or one with no visible character, in the resident's language (``empty_message``),
#: so pydantic does not check it (its message would be a technical one).
QUESTION_TEXT: dict[str, Any] = {"minLength": 1, "pattern": r"\S"}


class Request(BaseModel):
    # Strict: ``"stream": "yes"`` or ``"helpful": 1`` is a mistake to report, not a guess.
    model_config = ConfigDict(extra="forbid", strict=True)


class ChatRequest(Request):
    #: Checked by the understanding pipeline, which explains problems in the resident's language.
    message: str = Field(
        description="The resident's question, as typed.", json_schema_extra=QUESTION_TEXT
    )
    session_id: Identifier | None = Field(
        None, description="Continue this conversation; a new one is started when absent."
    )
    lang: LanguageTag | None = Field(
        None, description="UI language (zh-CN, en …); Accept-Language decides when absent."
    )
    stream: bool = Field(False, description="Reply as Server-Sent Events.")
    agent: Identifier | None = Field(
        None, description="The assistant or service area the resident picked in the UI."
    )
    correct: bool = Field(
        True,
        description="False: send the question on exactly as typed, without spelling or pinyin "
        "correction (the portal's 'ask what I typed').",
    )


class CitationOut(BaseModel):
    title: str
    url: str
    snippet: str = ""
    score: float | None = None


class Notice(BaseModel):
    code: str
    message: str


class ChatResponse(BaseModel):
    message_id: str
    session_id: str
    answer: str = Field(description="Markdown.")
    answer_text: str = Field(description="Plain text, for read-aloud and screen readers.")
    language: str = Field(description="Language of the answer.")
    found: bool = Field(description="False when no back end had an answer.")
    citations: list[CitationOut] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    backend: str = Field("", description="The back end that answered.")
    did_you_mean: str | None = Field(
        None,
        description="The question as the gateway understood it, when that differs from what "
        "the resident typed (corrected spelling, pinyin turned into characters).",
    )
    original_answer: str | None = Field(
        None,
        description="When the answer was machine translated: the answer as the back end wrote "
        "it (Markdown, usually Chinese), for the resident to check or show an official.",
    )


class FeedbackRequest(Request):
    message_id: Identifier
    helpful: bool
    comment: Annotated[str, StringConstraints(max_length=1000)] | None = None
    lang: LanguageTag | None = None


class FeedbackResponse(BaseModel):
    message: str


class HotQuestion(BaseModel):
    id: str
    question: str
    category: str


class HotQuestions(BaseModel):
    questions: list[HotQuestion]


class CategoryOut(BaseModel):
    id: str
    name: str


class Categories(BaseModel):
    categories: list[CategoryOut]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


class BackendHealth(BaseModel):
    name: str
    type: str
    ok: bool
    detail: str = ""
    breaker: str = Field("closed", description="closed, open (skipped) or half_open (probing).")


class BackendStatus(BackendHealth):
    consecutive_failures: int = 0
    in_flight: int = Field(0, description="Questions being answered now.")
    max_concurrency: int = 0
    timeout: float = Field(0, description="Seconds for a whole answer.")
    first_token_timeout: float = Field(0, description="Seconds for a stream's first piece.")
    routes: list[str] = Field(default_factory=list, description="Routes that use it.")


class Backends(BaseModel):
    backends: list[BackendStatus]


class Readiness(BaseModel):
    ready: bool
    backends: list[BackendHealth]


class AnalyzeRequest(Request):
    text: str = Field(
        description="A question, as a resident would type it.", json_schema_extra=QUESTION_TEXT
    )
    lang: LanguageTag | None = Field(
        None, description="UI language, the hint for text too short to tell its language."
    )
    correct: bool = Field(True, description="False: skip pinyin conversion and typo correction.")


class CorrectionOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    stage: str
    from_: str = Field(alias="from", description="The text the stage replaced.")
    to: str
    span: list[int] = Field(
        description="[start, end) of ``from`` in the text the stage read (its ``before``)."
    )
    reason: str = Field(description="homophone, fuzzy pinyin, look-alike, pinyin or cantonese.")
    alternative: str | None = Field(None, description="The next best reading (pinyin).")


class StepOut(BaseModel):
    stage: str
    changed: bool
    before: str
    after: str
    reason: str = Field(description="Why the stage changed the text, or what it found.")


class AnalysisOut(BaseModel):
    """How the gateway understood a question (docs/understanding.md)."""

    original: str = Field(description="Exactly what was sent.")
    normalized: str = Field(description="After sanitizing and normalizing.")
    language: str | None = Field(
        description="zh, zh-Hant, yue, pinyin, en, ko, ja, vi, th, ru, fr, es, ar, id, ms, lo, "
        "km, my, or another langdetect code."
    )
    script: str | None = Field(
        description="The resident's Traditional script (hk, tw, t), for the reply; null for "
        "Simplified."
    )
    corrected: str = Field(description="The text sent on to the back ends.")
    changed: bool = Field(description="Whether any stage changed the text.")
    autocorrected: bool = Field(
        description="Whether pinyin conversion or typo correction changed it (did_you_mean)."
    )
    corrections: list[CorrectionOut]
    trace: list[StepOut]


#: What any route may answer besides its own success, in the error shape (gateway/api/errors.py):
#: a body that is not JSON (400), an unknown address (404), a method the address does not
#: take (405, with ``Allow``), a body too large (413) or not JSON (415), a request that does not
#: validate (422), too many requests (429), a fault (500), no back end or service (503).
COMMON_ERRORS = (400, 404, 405, 413, 415, 422, 429, 500, 503)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a router: :data:`COMMON_ERRORS` and ``statuses``."""
    return {status: {"model": ErrorResponse} for status in sorted({*COMMON_ERRORS, *statuses})}
