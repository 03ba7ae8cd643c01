"""The seam every capability call passes through: observers told when it begins and ends.

Tracing registers one (a span per call); anything else that must see every
call, direct or over HTTP, hooks in here once. An observer that raises is
logged and skipped: it never changes what the caller sees.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, Protocol

__all__ = ["CallObserver", "Outcome", "begin_observers", "end_observers"]

logger = logging.getLogger("greenlang_runtime")

Outcome = Literal["success", "error", "client_error"]


class CallObserver(Protocol):
    """Told of every capability call, direct or over HTTP (tracing hooks in here).

    ``begin`` runs in the caller's thread and context before the function
    (so a context variable it sets is seen by the function, also in a worker
    thread); ``end`` runs in the same context after it, with the outcome and
    the exception, if any. An observer that raises is logged and skipped: it
    never changes what the caller sees.
    """

    def begin(self, capability: str, payload: Any) -> object:
        """A call starts; return a token that is handed back to :meth:`end`."""
        ...

    def end(self, token: object, outcome: Outcome, error: BaseException | None) -> None:
        """The call begun with ``token`` ended."""
        ...


def begin_observers(
    observers: list[CallObserver], name: str, payload: Any
) -> list[tuple[CallObserver, object]]:
    """Tell each observer a call of ``name`` starts; their tokens, in order."""
    tokens = []
    for observer in list(observers):
        try:
            tokens.append((observer, observer.begin(name, payload)))
        except Exception:
            logger.exception("call observer %r failed at the start of a call", observer)
    return tokens


def end_observers(
    tokens: list[tuple[CallObserver, object]], outcome: Outcome, error: BaseException | None
) -> None:
    """Tell each observer that had begun that the call ended."""
    for observer, token in tokens:
        try:
            observer.end(token, outcome, error)
        except Exception:
            logger.exception("call observer %r failed at the end of a call", observer)
