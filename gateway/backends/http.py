"""A legacy FAQ service that answers JSON, described entirely in the configuration: where to send
the question, in what body, and where in the reply the answer and its sources are.

Paths into the reply are JMESPath expressions (``data.answer``, ``result.items[0].text``,
``hits[*]``); placeholders ``{question}``, ``{session_id}``, ``{locale}``, ``{language}`` and
``{agent}`` are filled in anywhere in ``path``, ``params`` and ``body``.
"""

from __future__ import annotations

from typing import Any, Literal

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.backends.base import Answer, BackendError, Citation, Query
from gateway.backends.remote import RemoteBackend, RemoteOptions, http_url, score_of


def _expression(value: str) -> str:
    if value:
        try:
            jmespath.compile(value)
        except JMESPathError as exc:
            raise ValueError(f"not a JMESPath expression: {exc}") from exc
    return value


class CitationPaths(BaseModel):
    """Where each field of a citation is, relative to one item of ``citations``."""

    model_config = ConfigDict(extra="forbid")

    title: str = "title"
    url: str = "url"
    snippet: str = ""
    score: str = ""

    _check = field_validator("title", "url", "snippet", "score")(_expression)


class HttpOptions(RemoteOptions):
    #: The service, e.g. ``http://faq.jtj.example.gov.cn``.
    base_url: str
    #: Path of the question endpoint, e.g. ``/api/ask``.
    path: str = ""
    method: Literal["GET", "POST"] = "POST"
    #: Query parameters (placeholders allowed).
    params: dict[str, str] = Field(default_factory=dict)
    #: The JSON body of a POST (placeholders allowed in any string in it).
    body: Any = Field(default_factory=lambda: {"question": "{question}"})
    #: Where the answer text is in the reply.
    answer: str = "answer"
    #: Where the list of sources is (empty: none).
    citations: str = ""
    citation_fields: CitationPaths = Field(default_factory=CitationPaths)
    #: Where a true/false "found" flag is (empty: an answer is found when it is not empty).
    found: str = ""
    #: Whether the service writes its answers with a language model: its questions are then
    #: screened for prompt injection. False only for a service that looks answers up.
    language_model: bool = True

    _check = field_validator("answer", "citations", "found")(_expression)


class HttpBackend(RemoteBackend):
    type = "http"
    Options = HttpOptions
    options: HttpOptions

    @property
    def uses_language_model(self) -> bool:  # type: ignore[override]
        # Any service can sit behind this adapter: it says in its options.
        return self.options.language_model

    async def ask(self, query: Query) -> Answer:
        values = {
            "question": query.text,
            "session_id": query.session_id,
            "locale": query.locale,
            "language": query.language,
            "agent": query.agent or "",
        }
        options = self.options
        kwargs: dict[str, Any] = {"params": fill(options.params, values)}
        if options.method == "POST":
            kwargs["json"] = fill(options.body, values)
        reply = await self.request_json(options.method, fill(options.path, values), **kwargs)
        text = pick(options.answer, reply)
        if text is not None and not isinstance(text, str):
            raise BackendError(f"{self.name}: {options.answer!r} is not text: {str(text)[:100]}")
        text = (text or "").strip()
        found = bool(pick(options.found, reply)) if options.found else bool(text)
        items = pick(options.citations, reply) if options.citations else None
        return Answer(
            text=text if found else "",
            citations=[self.citation(item) for item in items or [] if isinstance(item, dict)],
            found=found and bool(text),
        )

    def citation(self, item: dict[str, Any]) -> Citation:
        paths = self.options.citation_fields
        return Citation(
            title=_text(pick(paths.title, item)),
            url=http_url(pick(paths.url, item)),
            snippet=_text(pick(paths.snippet, item)),
            score=score_of(pick(paths.score, item)),
        )


def pick(expression: str, data: Any) -> Any:
    return jmespath.search(expression, data) if expression else None


def fill(template: Any, values: dict[str, str]) -> Any:
    """``template`` with ``{name}`` placeholders replaced in every string inside it."""
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    return template


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)
