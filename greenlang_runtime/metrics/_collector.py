"""The platform's standard metric set, recorded cheaply and exposed at scrape time.

A capability call updates plain counters under one lock (a few hundred
nanoseconds) instead of one prometheus_client metric per series (each with
its own lock, about 2.5 µs for a counter and a histogram). The counts become
Prometheus metric families only when ``/metrics`` is scraped, through an
ordinary prometheus_client collector, so the exposition is the library's own.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final

from prometheus_client import CollectorRegistry
from prometheus_client.core import Exemplar, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from greenlang_runtime import metric_names as names
from greenlang_runtime.config import Identity
from greenlang_runtime.metrics._process import CpuMeter, resident_memory_bytes
from greenlang_runtime.metrics._quantiles import SlidingQuantiles
from greenlang_runtime.metrics.families import (
    OTHER,
    BoundedLabel,
    counter,
    cumulative,
    gauge,
    histogram,
)

__all__ = [
    "MAX_ERROR_TYPES",
    "OTHER",
    "AgentMetrics",
    "CallStats",
]

PERCENTILES: Final = (
    (0.5, "p50", names.LATENCY_P50),
    (0.95, "p95", names.LATENCY_P95),
    (0.99, "p99", names.LATENCY_P99),
)
LATENCY_WINDOW_SECONDS: Final = 300.0
# Label values that come from outside are capped; the rest share this value.
MAX_ERROR_TYPES: Final = 50
MAX_ROUTES: Final = 200

_BUCKET_BOUNDS = names.bucket_bounds(names.REQUEST_DURATION_BUCKETS)
# One name's counts: (name, successes, errors, client errors, seconds in all, buckets).
_Counts = tuple[str, int, int, int, float, list[int]]


class CallStats:
    """Counts of one capability (or route): requests, durations, outcomes.

    Bound once when the capability is declared, so a call only does
    arithmetic on it. A call starts with :meth:`begin` and ends with
    :meth:`end`: both are here, so the calls in flight are counted up and
    down in one place.
    """

    __slots__ = (
        "_latency",
        "_lock",
        "_metrics",
        "_sampled_trace_id",
        "_unmark",
        "begin",
        "buckets",
        "client_errors",
        "errors",
        "exemplars",
        "name",
        "successes",
        "sum",
    )

    def __init__(self, metrics: AgentMetrics, name: str) -> None:
        self._metrics = metrics
        self._latency = metrics.latency.add
        self._sampled_trace_id = metrics.sampled_trace_id
        self._lock = metrics.lock
        mark, self._unmark = metrics.inflight_marks.append, metrics.inflight_marks.pop
        clock = time.perf_counter

        def begin() -> float:
            """A call starts: counted in flight; returns its start time for :meth:`end`."""
            mark(None)
            return clock()

        # A closure over locals: every call runs it, and it reads them faster
        # than a method reads attributes.
        self.begin: Callable[[], float] = begin
        self.name = name
        self.successes = 0
        self.errors = 0
        self.client_errors = 0
        self.sum = 0.0
        self.buckets = [0] * (len(names.REQUEST_DURATION_BUCKETS) + 1)
        # Per bucket, the last sampled call: (trace id, seconds, Unix time).
        self.exemplars: list[tuple[str, float, float] | None] = [None] * len(self.buckets)

    def end(
        self,
        started: float,
        failed: bool,
        error_type: str | None = None,
        *,
        client_error: bool = False,
    ) -> None:
        """Record the end of a call begun at ``started`` (see :meth:`begin`).

        Args:
            failed: whether the call failed (it raised, or answered 5xx).
            error_type: the class name of what it raised, counted in
                ``agent_errors_total``.
            client_error: the caller's input was rejected (4xx): counted as
                ``status="client_error"``, never in ``agent_errors_total``.
        """
        now = time.perf_counter()
        seconds = now - started
        self._unmark()
        # acquire/release rather than `with`: a third cheaper, on every call.
        lock = self._lock
        lock.acquire()
        try:
            self.buckets[bisect_left(names.REQUEST_DURATION_BUCKETS, seconds)] += 1
            self.sum += seconds
            self._latency(seconds, now)
            if failed:
                self.errors += 1
                if error_type is not None:
                    self._metrics.count_error(error_type)
            elif client_error:
                self.client_errors += 1
            else:
                self.successes += 1
        finally:
            lock.release()
        sampled = self._sampled_trace_id
        if sampled is not None:  # tracing is on
            trace_id = sampled()
            if trace_id is not None:
                # One slot per bucket, replaced whole: no lock needed.
                exemplar = (trace_id, seconds, time.time())
                self.exemplars[bisect_left(names.REQUEST_DURATION_BUCKETS, seconds)] = exemplar


class AgentMetrics(Collector):
    """Every non-LLM ``agent_*`` series of one agent, as one collector.

    Args:
        identity: gives the ``agent_id, version, tenant_id`` labels.
        registry: where to register; ``None`` registers nowhere.
        sampled_trace_id: when tracing is on, returns the current trace's id
            if it is sampled, attached to the duration buckets as exemplars.
    """

    def __init__(
        self,
        identity: Identity,
        registry: CollectorRegistry | None = None,
        *,
        sampled_trace_id: Callable[[], str | None] | None = None,
    ) -> None:
        self.identity = identity
        self.lock = threading.Lock()
        # One mark per call in flight. A deque's append and pop are atomic,
        # so starting a call takes no lock.
        self.inflight_marks: deque[None] = deque()
        self.queue_depth = 0
        self.latency = SlidingQuantiles(LATENCY_WINDOW_SECONDS, now=time.perf_counter())
        self._stats: dict[str, CallStats] = {}
        self._routes = 0
        self._errors: dict[str, int] = {}
        self._error_type = BoundedLabel(MAX_ERROR_TYPES)
        self._cpu = CpuMeter()
        self.sampled_trace_id = sampled_trace_id
        if registry is not None:
            registry.register(self)

    def begin(self) -> float:
        """A call starts: counted in flight; returns its start time for :meth:`CallStats.end`.

        For a call whose :class:`CallStats` is known only at its end (an
        author's route, matched by their router); a capability's own stats
        hold this same method as :attr:`CallStats.begin`.
        """
        self.inflight_marks.append(None)
        return time.perf_counter()

    def wait_begins(self) -> None:
        """A call starts waiting for a concurrency slot."""
        with self.lock:
            self.queue_depth += 1

    def wait_ends(self) -> None:
        """A call stops waiting for a concurrency slot (it got one, or gave up)."""
        with self.lock:
            self.queue_depth -= 1

    def stats(self, name: str, *, route: bool = False) -> CallStats:
        """The counts of capability (or, with ``route``, HTTP route) ``name``.

        Routes are capped at ``MAX_ROUTES`` distinct names; later ones share
        the counts named ``other``.
        """
        with self.lock:
            found = self._stats.get(name)
            if found is None:
                if route:
                    if self._routes >= MAX_ROUTES:
                        name = OTHER
                    else:
                        self._routes += 1
                found = self._stats.setdefault(name, CallStats(self, name))
            return found

    def count_error(self, error_type: str) -> None:
        """Count one error of ``error_type``; call with :attr:`lock` held."""
        error_type = self._error_type(error_type)
        self._errors[error_type] = self._errors.get(error_type, 0) + 1

    def record_error(self, error_type: str) -> None:
        """Count one error of ``error_type`` outside any call (a background task's)."""
        with self.lock:
            self.count_error(error_type)

    def describe(self) -> Iterable[Metric]:
        """No description: collected at every scrape, and checked only then."""
        return ()

    def collect(self) -> Iterator[Metric]:
        """Turn the current counts into metric families."""
        identity = self.identity.labels
        with self.lock:
            recorders: list[_Counts] = [
                (r.name, r.successes, r.errors, r.client_errors, r.sum, list(r.buckets))
                for r in self._stats.values()
            ]
            exemplars = {r.name: list(r.exemplars) for r in self._stats.values()}
            errors = sorted(self._errors.items())
            inflight, queue_depth = len(self.inflight_marks), self.queue_depth
            quantiles = self.latency.quantiles([q for q, _, _ in PERCENTILES], time.perf_counter())

        yield from _call_families(identity, recorders, exemplars)

        errors_family = counter(
            names.ERRORS, "Errors raised by capabilities, by exception class.", "error_type"
        )
        for error_type, count in errors:
            errors_family.add_metric([*identity, error_type], count)
        yield errors_family

        for (_, label, metric), value in zip(PERCENTILES, quantiles, strict=True):
            yield gauge(
                metric,
                f"{label} of request duration over the last 5 minutes (NaN when idle).",
                identity,
                value,
            )
        yield gauge(
            names.MEMORY_USAGE, "Resident memory of the process.", identity, resident_memory_bytes()
        )
        yield gauge(
            names.CPU_USAGE,
            "CPU used by the process since the previous scrape, in percent of one core.",
            identity,
            self._cpu.percent(),
        )
        yield gauge(names.INFLIGHT, "Calls being served now.", identity, inflight)
        yield gauge(
            names.QUEUE_DEPTH,
            "Calls waiting for a capability's concurrency slot.",
            identity,
            queue_depth,
        )
        info = GaugeMetricFamily(
            names.INFO,
            "The agent's identity; always 1.",
            labels=[*names.AGENT_LABELS, "lifecycle_state"],
        )
        info.add_metric([*identity, self.identity.lifecycle_state], 1)
        yield info


def _call_families(
    identity: Sequence[str],
    recorders: list[_Counts],
    exemplars: dict[str, list[tuple[str, float, float] | None]],
) -> Iterator[Metric]:
    """``agent_requests_total`` and ``agent_request_duration_seconds``, a series per name."""
    requests = counter(
        names.REQUESTS,
        "Capability calls and HTTP requests, by outcome.",
        "capability",
        "status",
    )
    durations = histogram(
        names.REQUEST_DURATION, "Duration of capability calls and HTTP requests.", "capability"
    )
    for name, successes, failures, rejected, total, buckets in sorted(recorders):
        requests.add_metric([*identity, name, "success"], successes)
        requests.add_metric([*identity, name, "error"], failures)
        requests.add_metric([*identity, name, "client_error"], rejected)
        durations.add_metric(
            [*identity, name],
            _with_exemplars(cumulative(_BUCKET_BOUNDS, buckets), exemplars[name]),
            total,
        )
    yield requests
    yield durations


def _with_exemplars(
    buckets: list[tuple[str, float]], exemplars: Sequence[tuple[str, float, float] | None]
) -> list[tuple[str, float] | tuple[str, float, Exemplar]]:
    """Cumulative buckets, each with its last sampled call's trace id where there is one.

    Shown only in the OpenMetrics format; the Prometheus text format has no exemplars.
    """
    result: list[tuple[str, float] | tuple[str, float, Exemplar]] = []
    for (bound, count), exemplar in zip(buckets, exemplars, strict=True):
        if exemplar is None:
            result.append((bound, count))
        else:
            trace_id, seconds, at = exemplar
            result.append((bound, count, Exemplar({"trace_id": trace_id}, seconds, at)))
    return result
