"""The gateway's log: text or JSON lines, a request id on each, and no secret in any of them.

Every handler :func:`configure_logging` installs on the root logger carries two guards:

- :class:`RedactFilter` runs first: it formats the record's message, its traceback and stack
  (format, then redact) and stores the redacted text back on the record, so any handler that
  sees the record after it (pytest's capture, a handler added later) gets the clean text too;
- :class:`RedactingFormatter` redacts the final line once more, whatever the format added.

Both apply at every level, the access log included (its request line carries the query string,
where the Gemini SDK puts ``?key=``). Redaction runs per log line, and the hot path writes no
per-event line, so it costs nothing per event.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import orjson

from gptgate.observability.redact import redact

LogFormat = Literal["text", "json"]

#: The id of the request being served; set per request, read by every log line it causes.
REQUEST_ID: ContextVar[str | None] = ContextVar("gptgate_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"
#: Marks the handlers this module installed, so a second call replaces them (and only them).
_OURS = "_gptgate_handler"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (None when unset) and ``request_tag`` (`` [id]`` or empty)."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = REQUEST_ID.get()
        record.request_id = rid
        record.request_tag = f" [{rid}]" if rid else ""
        return True


class RedactFilter(logging.Filter):
    """Replaces the record's message, traceback and stack by their redacted text."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_gptgate_redacted", False):
            return True
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._gptgate_redacted = True
        return True


class RedactingFormatter(logging.Formatter):
    """The text format, its final line redacted."""

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_tag"):
            record.request_tag = ""
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (when set), exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            entry["request_id"] = rid
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return redact(orjson.dumps(entry).decode())


def guarded(handler: logging.Handler, fmt: LogFormat = "text") -> logging.Handler:
    """``handler`` with the request id, the redaction and the chosen format installed."""
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else RedactingFormatter(TEXT_FORMAT))
    return handler


def configure_logging(level: str, fmt: LogFormat | str = "text", file: Path | None = None) -> None:
    """Log to stderr (and append to ``file`` when given) at ``level``, in ``fmt`` (text | json).

    Calling it again replaces the handlers it installed before and leaves others alone.
    """
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown log format {fmt!r} (text or json)")
    form: LogFormat = "json" if fmt == "json" else "text"
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file is not None:
        path = file.expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="a", encoding="utf-8"))
    for handler in handlers:
        setattr(handler, _OURS, True)
        root.addHandler(guarded(handler, form))
    root.setLevel(level.upper())
    # migrations announce every step at INFO: an operator needs them only when debugging
    logging.getLogger("alembic").setLevel(logging.DEBUG if level.lower() == "debug" else logging.WARNING)
