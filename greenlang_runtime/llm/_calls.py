"""One LLM call from request to its last chunk, recorded exactly once."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from greenlang_runtime.llm._collector import MAX_MODEL_LENGTH
from greenlang_runtime.llm._tracing import CallSpans, end_span
from greenlang_runtime.llm._usage import MAX_COUNT, Usage, salvage

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from greenlang_runtime.llm._collector import LLMMetrics
    from greenlang_runtime.llm.budget import BudgetGuard, Hold
    from greenlang_runtime.llm.pricing import PriceBook

__all__ = ["Call", "LLMCallLog", "LedgerSink", "Route", "shown"]

logger = logging.getLogger("greenlang_runtime.llm")

# Distinct warnings given (unpriced models, kinds of unusable reports per
# model); past this, a flood of names stays quiet.
_MAX_WARNINGS: Final = 10_000
_warned: set[tuple[str, str, str]] = set()
_warned_lock = threading.Lock()
# How much of an outside value a log line shows.
_SHOWN: Final = 128
_EPOCH: Final = datetime.date(1970, 1, 1).toordinal()
# Queued calls that make the call path count them itself, when nobody scrapes
# (public: the benchmarks state it beside their figures).
DRAIN_AT: Final = 1024
# What a report held that could not be used: (kind, field=value).
_Problems = list[tuple[str, str]]


class LedgerSink(Protocol):
    """Where each call also goes as one row (the usage ledger), when one is configured.

    ``mark`` runs on the call path, at the call's end and before its span
    ends (it notes what only the call's context knows: its capability, its
    trace, and its id on the span); ``add`` runs when the call is counted,
    with the very cost the counter got. The ledger is made with the
    accounting's ``count_calls`` to run before it writes.
    """

    def mark(self, span: Span | None) -> object:
        """Note the call's context; cheap, on the call path."""
        ...

    def add(
        self,
        provider: str,
        model: str,
        usage: Usage,
        cost: float,
        priced: bool,
        status: str,
        seconds: float,
        ended: float,
        mark: object,
    ) -> None:
        """Add the call's row (``status``: success, error or abandoned)."""
        ...


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
    """

    __slots__ = (
        "abandoned",
        "done",
        "ended",
        "failed",
        "first_token",
        "hide_usage_chunk",
        "hold",
        "log",
        "mark",
        "model",
        "problems",
        "provider",
        "response_model",
        "route",
        "seconds",
        "span",
        "started",
        "usage",
    )
    # Set at the call's end by LLMCallLog.record (never read before it).
    failed: bool
    seconds: float
    ended: float
    mark: object

    def __init__(
        self,
        log: LLMCallLog,
        provider: str,
        route: Route,
        model: str,
        span: Span | None,
        hold: Hold | None = None,
    ) -> None:
        self.log = log
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
        self.problems: _Problems | None = None
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
        self.log.record(self, error)

    def abandon(self) -> None:
        """The caller stopped reading before the end: record what is known now, once."""
        if not self.done:
            self.abandoned = True
            self.finish()


def abandoned(error: BaseException) -> bool:
    """Whether ``error`` means the caller stopped reading, not that the call failed."""
    return isinstance(error, GeneratorExit | asyncio.CancelledError)


class LLMCallLog:
    """The finished calls of one agent, queued until they are priced and counted.

    A call's end only appends the call to a queue (and ends its span):
    looking up the price, working out the cost and updating the counts wait
    for the scrape (or for ``DRAIN_AT`` calls to have queued up), so that
    the call path stays a few microseconds.

    Args:
        metrics: the ``agent_llm_*`` counts each call is added to.
        prices: prices each call on the UTC day it ended.
        ledger: where each call also goes as one row, if anywhere.
        guard: reserves each call before it is sent, when a budget is set.
        spans: starts each call's span when tracing is configured; ``None``:
            as the process environment says.
    """

    def __init__(
        self,
        metrics: LLMMetrics,
        prices: PriceBook,
        ledger: LedgerSink | None = None,
        guard: BudgetGuard | None = None,
        spans: CallSpans | None = None,
    ) -> None:
        self.metrics = metrics
        self.spans = spans if spans is not None else CallSpans(os.environ)
        self.prices = prices
        self.ledger = ledger
        # Reserves before each call is sent (llm/_instrument.py) when a budget is set.
        self.guard = guard
        self._pending: deque[Call] = deque()
        self._drain_lock = threading.Lock()
        self._day = (-1, datetime.date(1970, 1, 1))

    def start(self, provider: str, route: Route, model: str, hold: Hold | None = None) -> Call:
        """A new call of ``model`` on ``route``, with its span when tracing is configured."""
        span = self.spans.start(provider, route.operation, model)
        return Call(self, provider, route, model, span, hold)

    def record(self, call: Call, error: BaseException | None) -> None:
        """Queue ``call`` for counting; end its span."""
        call.seconds = time.perf_counter() - call.started
        call.failed = error is not None
        ledger = self.ledger
        call.mark = None if ledger is None else ledger.mark(call.span)
        if call.span is not None:
            end_span(call.span, call.response_model, call.usage, error)
        call.ended = ended = time.time()
        if call.hold is not None:
            # Priced as the counters price it: this model, on the UTC day it ended.
            call.hold.settle(call.provider, call.response_model or call.model, call.usage, ended)
        pending = self._pending
        # deque.append is atomic: no lock on the call path.
        pending.append(call)
        if len(pending) >= DRAIN_AT:
            self.drain()

    def drain(self) -> None:
        """Price and count every queued call (and hand it to the ledger with that cost)."""
        pending = self._pending
        with self._drain_lock:
            while pending:
                self._count(pending.popleft())

    def _count(self, call: Call) -> None:
        """Price ``call`` and add it to the counts and the ledger; with the drain lock held."""
        provider, model, usage = call.provider, call.response_model or call.model, call.usage
        if call.problems is not None:
            _warn_problems(provider, model, call.problems)
        if len(model) > MAX_MODEL_LENGTH:
            _warn_once(
                provider,
                model,
                "long",
                "%s model %s has an id longer than %d characters: it is counted "
                'under model="other" in the agent_llm_* series.',
                MAX_MODEL_LENGTH,
            )
        price = self.prices.price(provider, model, self._on(call.ended))
        failed = call.failed
        unpriced = price is None and (not failed or usage.prompt + usage.output > 0)
        cost = 0.0 if price is None else price.cost(usage)
        if unpriced:
            _warn_unpriced(provider, model)
        self.metrics.record(
            provider, model, usage, cost, failed, unpriced, call.seconds, call.first_token
        )
        ledger = self.ledger
        if ledger is not None:
            status = "error" if failed else "abandoned" if call.abandoned else "success"
            ledger.add(
                provider,
                model,
                usage,
                cost,
                price is not None,
                status,
                call.seconds,
                call.ended,
                call.mark,
            )

    def _on(self, when: float) -> datetime.date:
        """The UTC date of ``when`` (prices change at UTC midnight), remembered for the day."""
        day_number = int(when // 86400)
        cached_number, day = self._day
        if day_number != cached_number:
            day = datetime.date.fromordinal(_EPOCH + day_number)
            self._day = (day_number, day)
        return day


def shown(value: Any) -> str:
    """``repr(value)``, cut to a length a log line can carry."""
    if isinstance(value, str) and len(value) > _SHOWN:
        # repr() of the whole of a huge string would cost its length.
        value = value[:_SHOWN]
    # repr() of a huge int costs time quadratic in its digits, and raises past 4300.
    text = repr(value) if not isinstance(value, int) or value.bit_length() < 512 else "<huge int>"
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def _warn_once(provider: str, model: str, kind: str, message: str, *args: object) -> bool:
    """Log ``message`` (``provider`` and the model first) once per (provider, model, kind)."""
    key = (provider, model[: MAX_MODEL_LENGTH + 1], kind)
    if key in _warned:
        return False
    with _warned_lock:
        if key in _warned or len(_warned) >= _MAX_WARNINGS:
            return False
        _warned.add(key)
    logger.warning(message, provider, shown(model), *args)
    return True


def _warn_unpriced(provider: str, model: str) -> None:
    """One WARNING per unpriced model per process."""
    _warn_once(
        provider,
        model,
        "unpriced",
        "No price is known for %s model %s: its tokens are counted at cost 0 and in "
        "agent_llm_unpriced_requests_total; set one with GL_LLM_PRICES_FILE or "
        "runtime.llm.set_price().",
    )


def _warn_problems(provider: str, model: str, problems: _Problems) -> None:
    """One WARNING per kind of unusable report per model, however many calls report it."""
    for kind, detail in problems:
        _warn_once(
            provider,
            model,
            kind,
            "%s model %s reported %s (%s); later reports of this kind for this model "
            "are not logged.",
            kind,
            detail,
        )
