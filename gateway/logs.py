"""The one logging setup of the gateway and the portal (``[logging]``).

``json`` (the default): one JSON object a line — time, level, logger, message, the request id
(``X-Request-ID``, made up when the client sent none) and any extra fields — for log
collectors; ``text`` for people. Every field of every record — the message, the fields passed as
``extra`` (the access log's ``path``), a formatted exception — passes through the
personal-number masking (gateway/safety/pii.py) before it is written, whatever logged it;
client addresses and query strings are never logged (uvicorn's own access log is replaced by
``gateway.access``, which has neither).
"""

from __future__ import annotations

import logging
import logging.config
from typing import IO, Any

from asgi_correlation_id import CorrelationIdFilter

from gateway.config import LoggingConfig
from gateway.safety import pii

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


class RequestId(CorrelationIdFilter):
    """Adds ``request_id`` (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        super().filter(record)
        record.request_id = getattr(record, "correlation_id", None) or "-"
        del record.correlation_id
        return True


#: The attributes every record has; any other was passed as ``extra`` and is written as a field.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
#: Also left as they are: the request's id is the gateway's own (asgi-correlation-id accepts a
#: caller's only as a UUID), and one in 25 random hex ids holds a run of digits shaped like a
#: phone or card number; masked, it would no longer find the request's other lines.
_UNMASKED = _RECORD_ATTRIBUTES | {"request_id", "correlation_id"}


class MaskPersonalData(logging.Filter):
    """Every field with personal numbers masked (a back end's error may quote a question, a
    request path may hold a number)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = pii.mask(message).text
        if masked != message:
            record.msg, record.args = masked, None
        fields = vars(record)
        for name, value in fields.items():
            if name not in _UNMASKED and isinstance(value, str):
                fields[name] = pii.mask(value).text
        if record.exc_info and record.exc_info[1] is not None:
            # Exceptions are formatted later; format them now, masked.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = pii.mask(record.exc_text).text
        if record.stack_info:
            record.stack_info = pii.mask(record.stack_info).text
        return True


def configure(
    config: LoggingConfig, level: str | None = None, stream: IO[str] | None = None
) -> None:
    """Set up the root logger (and uvicorn's) once, at program start (``stream``: standard
    error by default)."""
    formatter: dict[str, Any]
    if config.format == "json":
        formatter = {
            # orjson: a third of the cost of a log line (one access line per request).
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    chosen = (level or config.level).upper()
    # No format here shows a record's source line, thread or process: do not look them up for
    # every record (the logging HOWTO's "Optimization").
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {
                "request_id": {"()": RequestId},
                "mask": {"()": MaskPersonalData},
            },
            "formatters": {"default": formatter},
            "handlers": {
                "default": {
                    "class": "logging.StreamHandler",
                    "formatter": "default",
                    "filters": ["request_id", "mask"],
                    "stream": stream or "ext://sys.stderr",
                }
            },
            "root": {"handlers": ["default"], "level": chosen},
            "loggers": {
                # uvicorn's loggers go through the same handler; its access log (which holds
                # client addresses) is off, gateway.access replaces it.
                "uvicorn": {"handlers": [], "propagate": True},
                "uvicorn.error": {"handlers": [], "propagate": True},
                "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
                # Migrations at start-up say what they change, not which plugins they load.
                "alembic": {"level": "WARNING"},
                # httpx logs every back-end request at info: a second line per question,
                # which the access line, the back-end metrics and the router's warnings cover.
                "httpx": {"level": "WARNING"},
            },
        }
    )
