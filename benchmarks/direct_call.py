"""Benchmark 1: a capability called directly from Python, against the bare function."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from benchmarks._common import (
    PAYLOAD,
    Section,
    interleaved,
    loop_factory,
    median,
    number,
    paired,
    progress,
    table,
    verdict,
)
from greenlang_runtime import AgentRuntime
from greenlang_runtime.metric_names import REQUEST_DURATION_BUCKETS

__all__ = ["run"]

CALLS = 200_000
ROUNDS = 7
TARGET_ADDED_US = 4.0

_SYNC_BARE = "sync, bare"
_SYNC_DECORATED = "sync, decorated"
_ASYNC_BARE = "async, bare"
_ASYNC_DECORATED = "async, decorated"
_PROMETHEUS = "prometheus_client pair"


def _echo_sync(payload: dict[str, object]) -> dict[str, object]:
    """Return the payload."""
    return payload


async def _echo_async(payload: dict[str, object]) -> dict[str, object]:
    """Return the payload."""
    return payload


def _per_call_sync(function: Callable[[Any], Any], calls: int) -> float:
    """Nanoseconds per call of ``function(PAYLOAD)`` in a tight loop."""
    payload = PAYLOAD
    started = time.perf_counter_ns()
    for _ in range(calls):
        function(payload)
    return (time.perf_counter_ns() - started) / calls


async def _per_call_async(function: Callable[[Any], Awaitable[Any]], calls: int) -> float:
    """Nanoseconds per ``await function(PAYLOAD)`` in a tight loop."""
    payload = PAYLOAD
    started = time.perf_counter_ns()
    for _ in range(calls):
        await function(payload)
    return (time.perf_counter_ns() - started) / calls


def _per_pair(counter: Counter, histogram: Histogram, calls: int) -> float:
    """Nanoseconds per ``counter.inc()`` plus ``histogram.observe()`` on bound children."""
    started = time.perf_counter_ns()
    for _ in range(calls):
        counter.inc()
        histogram.observe(0.003)
    return (time.perf_counter_ns() - started) / calls


def _prometheus_children() -> tuple[Counter, Histogram]:
    """A counter and a histogram with the runtime's labels, children bound once."""
    registry = CollectorRegistry()
    labels = ("agent_id", "version", "tenant_id", "capability", "status")
    counter = Counter("bench_requests", "Calls.", labels, registry=registry)
    histogram = Histogram(
        "bench_duration_seconds",
        "Durations.",
        labels[:-1],
        registry=registry,
        buckets=REQUEST_DURATION_BUCKETS,
    )
    identity = ("bench-direct", "0.0.0", "bench")
    return (
        counter.labels(*identity, "echo", "success"),
        histogram.labels(*identity, "echo"),
    )


_VARIANTS = [_SYNC_BARE, _SYNC_DECORATED, _ASYNC_BARE, _ASYNC_DECORATED, _PROMETHEUS]


def run() -> Section:
    """Time the four call kinds and the prometheus_client pair, interleaved over rounds."""
    results = _timed()
    rows, targets = _rows(results)
    return _section(results, rows, targets)


def _timed() -> dict[str, list[float]]:
    """ns per call of each variant, per round: warmed up, then in turns."""
    runtime = AgentRuntime(agent_id="bench-direct", environ={})
    decorated_sync = runtime.capability("echo_sync")(_echo_sync)
    decorated_async = runtime.capability("echo_async")(_echo_async)
    counter, histogram = _prometheus_children()
    results: dict[str, list[float]] = {variant: [] for variant in _VARIANTS}
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        measures: dict[str, Callable[[int], float]] = {
            _SYNC_BARE: lambda n: _per_call_sync(_echo_sync, n),
            _SYNC_DECORATED: lambda n: _per_call_sync(decorated_sync, n),
            _ASYNC_BARE: lambda n: runner.run(_per_call_async(_echo_async, n)),
            _ASYNC_DECORATED: lambda n: runner.run(_per_call_async(decorated_async, n)),
            _PROMETHEUS: lambda n: _per_pair(counter, histogram, n),
        }
        for variant in _VARIANTS:  # warm up
            measures[variant](CALLS // 10)
        for round_, variant in interleaved(_VARIANTS, ROUNDS):
            if variant == _VARIANTS[round_ % len(_VARIANTS)]:
                progress(f"direct calls: round {round_ + 1} of {ROUNDS}")
            gc.collect()
            results[variant].append(measures[variant](CALLS))
    return results


def _rows(results: dict[str, list[float]]) -> tuple[list[list[str]], list[list[str]]]:
    """Per call kind: bare, decorated and the paired difference; and the targets."""
    rows = []
    targets = []
    for kind, bare, decorated in (
        ("sync", _SYNC_BARE, _SYNC_DECORATED),
        ("async", _ASYNC_BARE, _ASYNC_DECORATED),
    ):
        added_us = paired(results[decorated], results[bare]) / 1000
        rows.append(
            [
                kind,
                number(median(results[bare]), 0),
                number(median(results[decorated]), 0),
                number(added_us, 2),
                verdict(added_us <= TARGET_ADDED_US),
            ]
        )
        targets.append(
            [
                f"direct {kind} call: ≤ {TARGET_ADDED_US:g} µs added",
                f"{added_us:.2f} µs",
                verdict(added_us <= TARGET_ADDED_US),
            ]
        )
    return rows, targets


def _section(
    results: dict[str, list[float]], rows: list[list[str]], targets: list[list[str]]
) -> Section:
    """The section: what was timed, the table, prometheus_client's pair for reference."""
    pair_ns = median(results[_PROMETHEUS])
    return Section(
        title="1. Direct-call overhead of a capability",
        intro=(
            "A function decorated with `@runtime.capability`, called from Python, against "
            "the same function undecorated: "
            f"{CALLS:,} calls per variant per round, {ROUNDS} rounds interleaved. "
            "The async variants are awaited inside one running event loop (uvloop). "
            "The decorated calls record the full metric set (request counts, duration "
            "histogram, in-flight gauge, sliding latency quantiles); tracing is off "
            "(its cost is in section 5). "
            "Figures are medians over rounds; *added* is the median of the per-round "
            "differences, decorated minus bare (loop overhead cancels out)."
        ),
        tables=[
            table(
                [
                    "call",
                    "bare (ns/call)",
                    "decorated (ns/call)",
                    "added (µs/call)",
                    f"target ≤ {TARGET_ADDED_US:g} µs",
                ],
                rows,
            )
        ],
        notes=[
            "For reference, in the same run: prometheus_client's `Counter.inc()` plus "
            "`Histogram.observe()` (8 buckets) on children bound once cost "
            f"{number(pair_ns, 0)} ns per pair (loop included)."
        ],
        targets=targets,
    )
