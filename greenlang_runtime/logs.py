"""Log set-up for a served agent: one line per record on standard error."""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_OWN_LOGGERS = ("greenlang_runtime", "uvicorn")


def configure_logging(level: str) -> None:
    """Log the runtime and uvicorn at ``level`` (``GL_LOG_LEVEL``), to standard error.

    Where the application has configured logging already (the root logger
    has a handler), its handlers and root level are left as they are; only
    the runtime's and uvicorn's own loggers take ``level``.
    """
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
        root.setLevel(level.upper())
    for name in _OWN_LOGGERS:
        logging.getLogger(name).setLevel(level.upper())
