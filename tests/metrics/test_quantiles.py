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


def test_merged_sketches_give_the_quantiles_of_all_observations() -> None:
    """Three sketches merged report every quantile within 1% of all their samples' exact one."""
    rng = random.Random(19)
    parts = [[rng.lognormvariate(-4, 1.2) for _ in range(n)] for n in (5_000, 3_000, 700)]
    merged = SlidingQuantiles(now=20.0)
    for started, values in zip((0.3, 7.1, 12.0), parts, strict=True):
        sketch = SlidingQuantiles(now=started)
        for i, value in enumerate(values):
            sketch.add(value, now=12.0 + i / len(values))
        merged.merge(sketch.state(now=20.0))
    everything = [value for values in parts for value in values]
    qs = [0.5, 0.95, 0.99, 0.999]
    for q, got in zip(qs, merged.quantiles(qs, now=20.0), strict=True):
        assert got == pytest.approx(exact(everything, q), rel=0.01)
    # The merge is the sketch of all samples: the same buckets, so the same answers.
    single = SlidingQuantiles(now=0.0)
    for value in everything:
        single.add(value, now=13.0)
    assert merged.quantiles(qs, now=20.0) == single.quantiles(qs, now=20.0)


def test_a_merge_matches_slots_by_time_and_keeps_the_window() -> None:
    """Counts exported from an older slot leave the merged window when their slot would."""
    slow = SlidingQuantiles(window=300, slots=10, now=0.0)
    for _ in range(100):
        slow.add(5.0, now=10.0)  # slot [0, 30)
    state = slow.state(now=50.0)  # exported one slot later
    assert state.slot_end == 60.0
    merged = SlidingQuantiles(window=300, slots=10, now=100.0)
    for _ in range(100):
        merged.add(0.010, now=100.0)
    merged.merge(state)
    # 200 samples, the 198th is a slow one while slot [0, 30) is in the window.
    assert merged.quantiles([0.99], now=299.0)[0] == pytest.approx(5.0, rel=0.01)
    assert merged.quantiles([0.99], now=300.0)[0] == pytest.approx(0.010, rel=0.01)


def test_merging_a_newer_state_moves_the_window_forward() -> None:
    """A state whose current slot is later than the merger's slides the merger first."""
    merged = SlidingQuantiles(window=300, slots=10, now=0.0)
    merged.add(5.0, now=1.0)  # slot [0, 30)
    newer = SlidingQuantiles(window=300, slots=10, now=400.0)
    newer.add(0.010, now=401.0)  # slot [390, 420)
    merged.merge(newer.state(now=401.0))
    # Slot [0, 30) is out of the window that ends at 420.
    assert merged.quantiles([1.0], now=401.0)[0] == pytest.approx(0.010, rel=0.01)


def test_sketches_of_another_accuracy_do_not_merge() -> None:
    """Buckets of different widths cannot be added; the error names both settings."""
    coarse = SlidingQuantiles(relative_accuracy=0.02, now=0.0)
    with pytest.raises(ValueError, match=r"0\.02/30\.0 s into 0\.01/30\.0 s"):
        SlidingQuantiles(now=0.0).merge(coarse.state(now=0.0))
