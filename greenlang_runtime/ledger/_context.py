"""The capability an LLM call belongs to: a context variable set around each capability call.

A context variable follows the call into what it awaits, into the worker
thread of a sync capability, and into tasks it starts (``asyncio`` copies
the context when a task is created), so an LLM call made from
``runtime.create_task`` work started inside a capability is that
capability's too.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

__all__ = ["CapabilityContext", "current_capability"]

current_capability: ContextVar[str | None] = ContextVar(
    "greenlang_runtime_capability", default=None
)


class CapabilityContext:
    """A capability-call observer that sets :data:`current_capability` for the call."""

    __slots__ = ()

    def begin(self, capability: str, payload: Any) -> object:
        """Name ``capability`` as the current one for the call."""
        return current_capability.set(capability)

    def end(self, token: object, outcome: str, error: BaseException | None) -> None:
        """Restore the capability current before the call (usually none)."""
        current_capability.reset(token)  # type: ignore[arg-type]
