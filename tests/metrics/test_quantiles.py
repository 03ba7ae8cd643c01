"""Sliding-window quantiles: relative accuracy, the window's edges, bounded memory."""

from __future__ import annotations

import math
import random

import pytest

from greenlang_runtime.metrics._quantiles import SlidingQuantiles


def exact(values: list[float], q: float) -> float:
    """The nearest-rank quantile (the ⌈q·n⌉-th smallest), by sorting."""
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)), 1) - 1]


def test_quantiles_of_1_to_1000_ms_are_within_one_percent() -> None:
    """p50, p95 and p99 of 1..1000 ms are 500, 950 and 990 ms to within 1%."""
    sketch = SlidingQuantiles(now=0.0)
    for ms in range(1, 1001):
        sketch.add(ms / 1000, now=1.0)
    p50, p95, p99 = sketch.quantiles([0.5, 0.95, 0.99], now=1.0)
    assert p50 == pytest.approx(0.500, rel=0.01)
    assert p95 == pytest.approx(0.950, rel=0.01)
    assert p99 == pytest.approx(0.990, rel=0.01)


def test_skewed_random_samples_stay_within_the_relative_bound() -> None:
    """On lognormal latencies every reported quantile is within 1% of the exact one."""
    rng = random.Random(7)
    values = [rng.lognormvariate(-3, 1.5) for _ in range(20_000)]
    sketch = SlidingQuantiles(now=0.0)
    for value in values:
        sketch.add(value, now=10.0)
    for q, got in zip(
        (0.5, 0.9, 0.95, 0.99, 0.999),
        sketch.quantiles([0.5, 0.9, 0.95, 0.99, 0.999], now=10.0),
        strict=True,
    ):
        assert got == pytest.approx(exact(values, q), rel=0.01)


def test_empty_window_reports_nan() -> None:
    """With no sample in the window there is no latency to report."""
    sketch = SlidingQuantiles(now=0.0)
    assert all(math.isnan(v) for v in sketch.quantiles([0.5, 0.99], now=0.0))


def test_samples_leave_the_window_after_five_minutes() -> None:
    """A slow burst stops counting once it is older than the window."""
    sketch = SlidingQuantiles(window=300, slots=10, now=0.0)
    for _ in range(100):
        sketch.add(5.0, now=10.0)  # slot [0, 30)
    for _ in range(100):
        sketch.add(0.010, now=200.0)
    # Both in the window: p99 is the 198th of 200, a slow one.
    assert sketch.quantiles([0.99], now=200.0)[0] == pytest.approx(5.0, rel=0.01)
    # At t=299 the first slot is still the oldest of ten: 4.5 to 5 minutes are kept.
    assert sketch.quantiles([0.99], now=299.0)[0] == pytest.approx(5.0, rel=0.01)
    # At t=300 slot [0, 30) has slid out; only the fast samples remain.
    assert sketch.quantiles([0.99], now=300.0)[0] == pytest.approx(0.010, rel=0.01)
    # Long idle: everything has left.
    assert math.isnan(sketch.quantiles([0.5], now=10_000.0)[0])


def test_memory_is_bounded_whatever_the_values() -> None:
    """Extreme and spread-out values never create more buckets than the clamp allows."""
    sketch = SlidingQuantiles(now=0.0)
    for exponent in range(-30, 30):
        for mantissa in range(1, 100):
            sketch.add(mantissa * 10.0**exponent, now=1.0)
    sketch.add(0.0, now=1.0)
    sketch.add(-1.0, now=1.0)
    # log(1e6 / 1e-9) / log(1.01 / 0.99) ≈ 1727 buckets at most.
    assert len(sketch._counts) <= 1728
    assert sketch.quantiles([0.0], now=1.0)[0] == pytest.approx(1e-9, rel=0.01)
