"""The one place a capability call is measured: its begin and its end.

Every call, direct from Python or over HTTP, runs ``begin(payload)`` before
the function and ``end(begun, error)`` after it. They count the call in the
capability's :class:`~greenlang_runtime.metrics.CallStats` and tell the
:class:`~greenlang_runtime.capabilities.CallObserver` objects (tracing, LLM
accounting), so those hook in once and see every call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from greenlang_runtime.capabilities._observers import (
    CallObserver,
    Outcome,
    begin_observers,
    end_observers,
)
from greenlang_runtime.exceptions import InvalidInput, LLMBudgetExceeded
from greenlang_runtime.metrics import CallStats

__all__ = ["BeginFn", "Begun", "EndFn", "seam"]

# The caller's fault, or the caller's budget: status="client_error", never an agent error.
_CLIENT_ERRORS: Final = (InvalidInput, LLMBudgetExceeded)

# (started, [(observer, token), ...] or None)
Begun = tuple[float, "list[tuple[CallObserver, object]] | None"]
BeginFn = Callable[[Any], Begun]
EndFn = Callable[[Begun, "BaseException | None"], None]


def seam(name: str, observers: list[CallObserver], stats: CallStats) -> tuple[BeginFn, EndFn]:
    """The ``begin`` and ``end`` of every call of capability ``name``.

    ``observers`` is read at each call, so observers added later see later
    calls. An error that is :class:`~greenlang_runtime.InvalidInput` (or a
    spent LLM budget) is the caller's (``client_error``), any other the
    agent's (``error``). Closures rather than methods: every call runs both,
    and a closure reads its variables faster than a method reads attributes.
    """
    begin_stats, end_stats = stats.begin, stats.end

    def begin(payload: Any) -> Begun:
        tokens = begin_observers(observers, name, payload) if observers else None
        return begin_stats(), tokens

    def end(begun: Begun, error: BaseException | None) -> None:
        started, tokens = begun
        outcome: Outcome
        if error is None:
            end_stats(started, False)
            if tokens is None:
                return
            outcome = "success"
        elif isinstance(error, _CLIENT_ERRORS):
            end_stats(started, False, client_error=True)
            outcome = "client_error"
        else:
            end_stats(started, True, type(error).__name__)
            outcome = "error"
        if tokens is not None:
            end_observers(tokens, outcome, error)

    return begin, end
