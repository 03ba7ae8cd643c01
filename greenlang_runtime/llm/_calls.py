"""The finished LLM calls of one agent: queued on the call path, priced and counted later."""

from __future__ import annotations

import datetime
import logging
import os
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Final, Protocol

from greenlang_runtime import metric_names as names
from greenlang_runtime.llm._call import Call, Problems, Route, shown
from greenlang_runtime.llm._tracing import CallSpans, end_span
from greenlang_runtime.llm._usage import Usage

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from greenlang_runtime.llm._collector import LLMMetrics
    from greenlang_runtime.llm.budget import BudgetGuard, Hold
    from greenlang_runtime.llm.pricing import PriceBook

__all__ = ["DRAIN_AT", "LLMCallLog", "LedgerSink"]

logger = logging.getLogger("greenlang_runtime.llm")

# Distinct warnings given (unpriced models, kinds of unusable reports per
# model); past this, a flood of names stays quiet.
_MAX_WARNINGS: Final = 10_000
_warned: set[tuple[str, str, str]] = set()
_warned_lock = threading.Lock()
_EPOCH: Final = datetime.date(1970, 1, 1).toordinal()
# Queued calls that make the call path count them itself, when nobody scrapes
# (public: the benchmarks state it beside their figures).
DRAIN_AT: Final = 1024


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
        return Call(self.record, provider, route, model, span, hold)

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
        if len(model) > names.MAX_LABEL_VALUE_CHARS:
            _warn_once(
                provider,
                model,
                "long",
                "%s model %s has an id longer than %d characters: it is counted "
                'under model="other" in the agent_llm_* series.',
                names.MAX_LABEL_VALUE_CHARS,
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


def _warn_once(provider: str, model: str, kind: str, message: str, *args: object) -> bool:
    """Log ``message`` (``provider`` and the model first) once per (provider, model, kind)."""
    key = (provider, model[: names.MAX_LABEL_VALUE_CHARS + 1], kind)
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


def _warn_problems(provider: str, model: str, problems: Problems) -> None:
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
