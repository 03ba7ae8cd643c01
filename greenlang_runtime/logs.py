"""Log set-up for a served agent: one JSON object (or one readable line) per record.

The platform's log pipeline reads one JSON object per line; a developer at
a terminal reads text. Either way, every line carries the agent's identity
(JSON) and, inside a span, the trace and span ids, so a log line leads to
its trace; and no line shows a secret.
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import sys
from collections.abc import Iterable
from typing import IO, Any, Final

from greenlang_runtime._redact import redact_text, url_secrets
from greenlang_runtime.config import LIVE_PATH, READY_PATH, STARTUP_PATH, Identity, Settings

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_TRACEBACK_CHARS",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
    "log_handler",
    "log_secrets",
]

_TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# py.warnings: warnings (a coroutine never awaited, ...) as log lines, not bare stderr text.
_OWN_LOGGERS: Final = ("greenlang_runtime", "uvicorn", "py.warnings")
_UVICORN_CHILDREN: Final = ("uvicorn.access", "uvicorn.error")
_PROBE_PATHS: Final = frozenset((LIVE_PATH, READY_PATH, STARTUP_PATH))
_FORCE_QUIT_HINT: Final = " (CTRL+C to force quit)"
# The HTTP clients of the LLM SDKs log one INFO line per request ("HTTP Request: POST ...").
_CHATTY_CLIENTS: Final = ("httpx", "httpx2", "httpcore", "httpcore2")
# What every LogRecord has; anything else was passed in ``extra=`` and is kept.
_STANDARD: Final = frozenset(
    (*logging.makeLogRecord({}).__dict__, "message", "asctime", "taskName", "color_message")
)
# The longest a field of a line may be, counted after masking: a 1 MB
# exception message makes a line of a few kilobytes, not of a megabyte.
MAX_FIELD_CHARS: Final = 8192
# A traceback holds several frames' worth of text: room for more of it.
MAX_TRACEBACK_CHARS: Final = 32768


def log_secrets(settings: Settings) -> tuple[str, ...]:
    """The configured values that must never show in a log line (URL passwords)."""
    found: list[str] = []
    for url in (settings.database_url, settings.redis_url, settings.llm_ledger_url):
        if url is not None:
            found.extend(url_secrets(url.reveal()))
    return tuple(found)


def _redact(text: str, secrets: Iterable[str], limit: int = MAX_FIELD_CHARS) -> str:
    """``text`` masked, then cut to ``limit`` (never the other way round)."""
    return redact_text(text, secrets, limit=limit)


def _span_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids, or ``None`` outside a span."""
    # Nothing has been traced unless the application or the runtime imported the API.
    api = sys.modules.get("opentelemetry.trace")
    if api is None:
        return None
    context = api.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line, secrets masked.

    Fields: ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    ``agent_id``, ``version``, ``tenant_id``, ``trace_id`` and ``span_id``
    inside a span, ``exception`` (the whole traceback, one field), and any
    ``extra=`` fields of the call.

    Args:
        identity: the agent the lines belong to; ``None`` leaves its fields out.
        secrets: values masked wherever they appear (passwords, keys).
    """

    def __init__(self, identity: Identity | None = None, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.identity = identity
        self.secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        secrets = self.secrets
        entry: dict[str, Any] = {
            "timestamp": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": _redact(record.getMessage(), secrets),
        }
        if self.identity is not None:
            entry["agent_id"] = self.identity.agent_id
            entry["version"] = self.identity.version
            entry["tenant_id"] = self.identity.tenant_id
        ids = _span_ids()
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                # Numbers stay numbers (NaN and infinities are not JSON); the rest is text.
                plain = isinstance(value, int) or (
                    isinstance(value, float) and math.isfinite(value)
                )
                entry[key] = value if plain else _redact(str(value), secrets)
        if record.exc_info:
            entry["exception"] = _redact(
                self.formatException(record.exc_info), secrets, MAX_TRACEBACK_CHARS
            )
        if record.stack_info:
            entry["stack"] = _redact(
                self.formatStack(record.stack_info), secrets, MAX_TRACEBACK_CHARS
            )
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A readable line per record (for a terminal), the span ids appended, secrets masked.

    Args:
        secrets: values masked wherever they appear.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(_TEXT_FORMAT)
        self.secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = _span_ids()
        if ids is not None:
            line = f"{line} [trace_id={ids[0]} span_id={ids[1]}]"
        # The message, and a traceback after it, each have their bound.
        return _redact(line, self.secrets, MAX_FIELD_CHARS + MAX_TRACEBACK_CHARS)


class _NoProbes(logging.Filter):
    """Keeps the kubelet's probe requests out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access records: (client, method, path with query, version, status).
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            return args[2].partition("?")[0] not in _PROBE_PATHS
        return True


class _NoForceQuitHint(logging.Filter):
    """Drops uvicorn's "(CTRL+C to force quit)" from its drain lines.

    The runtime owns the signals: its own line at the first signal says what a
    second one does.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.endswith(_FORCE_QUIT_HINT):
            record.msg = record.msg.removesuffix(_FORCE_QUIT_HINT)
        return True


def log_handler(
    log_format: str = "json",
    identity: Identity | None = None,
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> logging.Handler:
    """A handler writing the runtime's format, for an application's own logging set-up.

    Args:
        log_format: ``json`` or ``text``.
        identity: the agent's identity for the JSON fields.
        secrets: values masked wherever they appear.
        stream: where to write; default: standard error.
    """
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    formatter = TextFormatter(secrets) if log_format == "text" else JsonFormatter(identity, secrets)
    handler.setFormatter(formatter)
    return handler


def configure_logging(
    settings: Settings,
    identity: Identity | None = None,
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Log the runtime and uvicorn in ``GL_LOG_FORMAT`` at ``GL_LOG_LEVEL``; return the handler.

    The runtime's and uvicorn's loggers always write through the runtime's
    handler, and only there. The HTTP clients' loggers (``httpx``, ``httpx2``,
    ``httpcore``), which log every LLM request at INFO, are set to WARNING
    unless the level is ``debug`` or the agent set their level itself. The
    application's own loggers join in when it has configured no logging of
    its own (the root logger has no handler); otherwise its set-up is left as
    it is, and it can add :func:`log_handler` where it wants the same lines.
    """
    stream = sys.stderr if stream is None else stream
    log_format = settings.log_format
    if log_format == "auto":
        log_format = "text" if stream.isatty() else "json"
    handler = log_handler(log_format, identity, secrets, stream)
    level = settings.log_level.upper()
    for name in _OWN_LOGGERS:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "_greenlang_runtime", False)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level)
        # An application's root handler would print them a second time.
        logger.propagate = False
    # uvicorn's own logging set-up (when something else applied it) would
    # write these with its handlers and levels: here they reach the runtime's, once.
    for name in _UVICORN_CHILDREN:
        child = logging.getLogger(name)
        child.handlers = []
        child.propagate = True
        child.setLevel(logging.NOTSET)  # GL_LOG_LEVEL, from "uvicorn"
    logging.captureWarnings(True)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _NoProbes) for f in access.filters):
        access.addFilter(_NoProbes())
    errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _NoForceQuitHint) for f in errors.filters):
        errors.addFilter(_NoForceQuitHint())
    # Quiet unless GL_LOG_LEVEL=debug or the agent gave the logger a level of its own
    # (e.g. logging.getLogger("httpx2").setLevel(logging.INFO)).
    if level != "DEBUG":
        for name in _CHATTY_CLIENTS:
            client = logging.getLogger(name)
            if client.level == logging.NOTSET:
                client.setLevel(logging.WARNING)
    root = logging.getLogger()
    runtime_handlers = [h for h in root.handlers if getattr(h, "_greenlang_runtime", False)]
    if len(runtime_handlers) == len(root.handlers):
        for old in runtime_handlers:
            root.removeHandler(old)
        root.addHandler(handler)
        root.setLevel(level)
    handler._greenlang_runtime = True  # type: ignore[attr-defined]
    return handler
