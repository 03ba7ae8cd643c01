"""One LLM call from request to its last chunk: what the provider reported, recorded once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from greenlang_runtime.llm._usage import MAX_COUNT, Usage, salvage

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from greenlang_runtime.llm.budget import Hold

__all__ = ["Call", "Problems", "Route", "abandoned", "shown"]

# How much of an outside value a log line shows.
_SHOWN: Final = 128
# What a report held that could not be used: (kind, field=value).
Problems = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Route:
    """What an API path is: its GenAI operation and how to read its usage.

    Args:
        operation: ``gen_ai.operation.name`` (``chat``, ``embeddings``).
        observe: reads a whole response object into the call.
        event: reads one stream chunk into the call; ``False`` hides the chunk.
        prepare_stream: the request options of a stream, changed as the
            provider needs (asking for its usage), or ``None``: sent as they are.
    """

    operation: str
    observe: Callable[[Call, Any], None]
    event: Callable[[Call, Any], bool]
    prepare_stream: Callable[[Any, Call], Any] | None = None


class Call:
    """One call in flight: its usage so far, and whether it has been recorded.

    A finished call is also the record the call log queues for counting:
    its end sets ``failed``, ``seconds``, ``ended`` and ``mark``, so that
    nothing else is built on the call path.

    Args:
        record: queues the finished call for counting (``LLMCallLog.record``).
        provider: ``anthropic`` or ``openai``.
        route: what the API path is and how its usage is read.
        model: the model the request named.
        span: the call's span, when tracing is configured.
        hold: the call's budget reservation, settled when it is recorded.
    """

    __slots__ = (
        "abandoned",
        "done",
        "ended",
        "failed",
        "first_token",
        "hide_usage_chunk",
        "hold",
        "mark",
        "model",
        "problems",
        "provider",
        "record",
        "response_model",
        "route",
        "seconds",
        "span",
        "started",
        "usage",
    )
    # Set at the call's end by ``record`` (never read before it).
    failed: bool
    seconds: float
    ended: float
    mark: object

    def __init__(
        self,
        record: Callable[[Call, BaseException | None], None],
        provider: str,
        route: Route,
        model: str,
        span: Span | None,
        hold: Hold | None = None,
    ) -> None:
        # Queues the finished call for counting (LLMCallLog.record).
        self.record = record
        # The call's budget reservation, settled when the call is recorded.
        self.hold = hold
        self.provider = provider
        self.route = route
        self.model = model
        self.response_model: str | None = None
        self.usage = Usage()
        self.span = span
        self.first_token: float | None = None
        self.hide_usage_chunk = False
        self.problems: Problems | None = None
        self.done = False
        self.abandoned = False
        self.started = time.perf_counter()

    def count(self, field: str, value: Any) -> int:
        """The token count that report field ``field`` holds; an unusable one is noted."""
        if type(value) is int and 0 <= value <= MAX_COUNT:
            return value
        if value is None:
            return 0
        counted, kind = salvage(value)
        self.note(kind, f"{field}={shown(value)}, counted as {counted}")
        return counted

    def report_model(self, value: Any) -> None:
        """Take the model id a response reports; one that is not a string is noted, not taken."""
        if type(value) is str:
            if value:
                self.response_model = value
        elif value is not None:
            self.note(
                "a model that is not a string",
                f"model={shown(value)}, counted under the model the request named",
            )

    def note(self, kind: str, detail: str) -> None:
        """Keep a problem of the report for the log (written off the call path, once per kind)."""
        problems = self.problems
        if problems is None:
            problems = self.problems = []
        elif any(known == kind for known, _ in problems):
            # A stream repeats its faults in every chunk: one per kind is enough.
            return
        problems.append((kind, detail))

    def observe(self, result: Any) -> None:
        """Read the usage of a whole response; what cannot be read is noted, never raised."""
        try:
            self.route.observe(self, result)
        except Exception as error:
            self.unreadable(error)

    def unreadable(self, error: Exception) -> None:
        """Note a response or chunk whose reading failed: the call keeps what was read."""
        self.note("a response that could not be read", f"{type(error).__name__}: {error}"[:_SHOWN])

    def mark_first_token(self) -> None:
        """The first generated chunk has reached the caller (streams)."""
        if self.first_token is None:
            self.first_token = time.perf_counter() - self.started

    def finish(self, error: BaseException | None = None) -> None:
        """Record the call with what is known now; later calls do nothing."""
        if self.done:
            return
        self.done = True
        self.record(self, error)

    def abandon(self) -> None:
        """The caller stopped reading before the end: record what is known now, once."""
        if not self.done:
            self.abandoned = True
            self.finish()


def abandoned(error: BaseException) -> bool:
    """Whether ``error`` means the caller stopped reading, not that the call failed."""
    return isinstance(error, GeneratorExit | asyncio.CancelledError)


def shown(value: Any) -> str:
    """``repr(value)``, cut to a length a log line can carry."""
    if isinstance(value, str) and len(value) > _SHOWN:
        # repr() of the whole of a huge string would cost its length.
        value = value[:_SHOWN]
    # repr() of a huge int costs time quadratic in its digits, and raises past 4300.
    text = repr(value) if not isinstance(value, int) or value.bit_length() < 512 else "<huge int>"
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
