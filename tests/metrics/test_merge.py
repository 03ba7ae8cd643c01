"""Merging several processes' expositions: sums, the supervisor's own series, retired workers."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric

from greenlang_runtime.metrics._merge import (
    Exposition,
    Retired,
    merge_expositions,
    parse_exposition,
)
from greenlang_runtime.metrics._quantiles import SlidingQuantiles

ID = 'agent_id="a",tenant_id="t",version="1"'


def worker_text(successes: int, inflight: int, memory: int, buckets: tuple[int, int]) -> str:
    """A worker's exposition with the series the merge treats differently."""
    fast, total = buckets
    return f"""\
# TYPE agent_requests_total counter
agent_requests_total{{{ID},capability="c",status="success"}} {successes}
# TYPE agent_request_duration_seconds histogram
agent_request_duration_seconds_bucket{{{ID},capability="c",le="0.01"}} {fast}
agent_request_duration_seconds_bucket{{{ID},capability="c",le="+Inf"}} {total}
agent_request_duration_seconds_count{{{ID},capability="c"}} {total}
agent_request_duration_seconds_sum{{{ID},capability="c"}} {total * 0.02}
# TYPE agent_inflight_requests gauge
agent_inflight_requests{{{ID}}} {inflight}
# TYPE agent_memory_usage_bytes gauge
agent_memory_usage_bytes{{{ID}}} {memory}
# TYPE agent_latency_p99_seconds gauge
agent_latency_p99_seconds{{{ID}}} 0.5
# TYPE agent_dependency_up gauge
agent_dependency_up{{{ID},dependency="postgres"}} 0
# TYPE agent_llm_budget_spent_usd gauge
agent_llm_budget_spent_usd{{{ID},scope="tenant"}} {successes / 100}
# TYPE process_start_time_seconds gauge
process_start_time_seconds {1000 + successes}
"""


SUPERVISOR = f"""\
# TYPE agent_requests_total counter
agent_requests_total{{{ID},capability="c",status="success"}} 0
# TYPE agent_memory_usage_bytes gauge
agent_memory_usage_bytes{{{ID}}} 1000
# TYPE agent_latency_p50_seconds gauge
agent_latency_p50_seconds{{{ID}}} NaN
# TYPE agent_latency_p99_seconds gauge
agent_latency_p99_seconds{{{ID}}} NaN
# TYPE agent_dependency_up gauge
agent_dependency_up{{{ID},dependency="postgres"}} 1
# TYPE agent_info gauge
agent_info{{{ID},lifecycle_state="active"}} 1
"""


def exposed(families: list[Metric]) -> dict[str, float]:
    """The merged families as Prometheus would scrape them: ``name{labels}`` to value."""

    class Fixed:
        def collect(self) -> list[Metric]:
            return families

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed())
    text = generate_latest(registry).decode()
    values = {}
    for family in parse_exposition(text).families.values():
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k in ("le",))
            values[f"{sample.name}{{{labels}}}"] = sample.value
    return values


def sketch_with(values: list[float], now: float) -> SlidingQuantiles:
    sketch = SlidingQuantiles(now=now)
    for value in values:
        sketch.add(value, now=now)
    return sketch


def test_counters_histograms_and_gauges_are_summed() -> None:
    """Two workers and the supervisor: requests, buckets, in-flight and memory add up."""
    workers = [
        parse_exposition(worker_text(7, 2, 50_000, (3, 7))),
        parse_exposition(worker_text(5, 1, 60_000, (4, 5))),
    ]
    merged = exposed(
        merge_expositions(
            parse_exposition(SUPERVISOR), workers, [], SlidingQuantiles(now=1.0), now=1.0
        )
    )
    assert merged["agent_requests_total{}"] == 12
    assert merged["agent_request_duration_seconds_bucket{le=0.01}"] == 7
    assert merged["agent_request_duration_seconds_bucket{le=+Inf}"] == 12
    assert merged["agent_request_duration_seconds_count{}"] == 12
    assert merged["agent_request_duration_seconds_sum{}"] == pytest.approx(0.24)
    assert merged["agent_inflight_requests{}"] == 3
    # The whole process tree: the supervisor's 1000 bytes and both workers'.
    assert merged["agent_memory_usage_bytes{}"] == 111_000


def test_supervisor_only_series_and_the_shared_readings() -> None:
    """Dependencies and info are the supervisor's; budget spent the freshest; start the first."""
    workers = [
        parse_exposition(worker_text(7, 0, 1, (0, 0))),
        parse_exposition(worker_text(5, 0, 1, (0, 0))),
    ]
    merged = exposed(
        merge_expositions(
            parse_exposition(SUPERVISOR), workers, [], SlidingQuantiles(now=1.0), now=1.0
        )
    )
    assert merged["agent_dependency_up{}"] == 1
    assert merged["agent_info{}"] == 1
    assert merged["agent_llm_budget_spent_usd{}"] == 0.07
    assert merged["process_start_time_seconds{}"] == 1005


def test_percentiles_come_from_the_merged_sketches_not_an_average() -> None:
    """One worker all fast, one with the slow tail: p99 is the tail's, as over all calls."""
    fast = sketch_with([0.010] * 90, now=5.0)
    slow = sketch_with([2.0] * 10, now=5.0)
    merged = exposed(
        merge_expositions(
            parse_exposition(SUPERVISOR),
            [Exposition(), Exposition()],
            [fast.state(5.0), slow.state(5.0)],
            SlidingQuantiles(now=5.0),
            now=5.0,
        )
    )
    # 100 calls: the 99th smallest is a 2 s call; the 50th a 10 ms one. The
    # workers' own p50 are 10 ms and 2 s: averaged 1 s, their maximum 2 s.
    assert merged["agent_latency_p99_seconds{}"] == pytest.approx(2.0, rel=0.01)
    assert merged["agent_latency_p50_seconds{}"] == pytest.approx(0.010, rel=0.01)


def test_an_exited_workers_counts_stay_in_the_totals() -> None:
    """A retired worker's last counts and latency samples are added to the live ones."""
    retired = Retired(SlidingQuantiles(now=1.0))
    retired.add(
        parse_exposition(worker_text(7, 2, 50_000, (3, 7))), sketch_with([2.0], 1.0).state(1.0)
    )
    live = parse_exposition(worker_text(5, 1, 60_000, (4, 5)))
    merged = exposed(
        merge_expositions(
            parse_exposition(SUPERVISOR),
            [live, retired.exposition()],
            [retired.sketch.state(1.0)],
            SlidingQuantiles(now=1.0),
            now=1.0,
        )
    )
    assert merged["agent_requests_total{}"] == 12
    assert merged["agent_request_duration_seconds_count{}"] == 12
    # Gauges of a process that is gone are not kept: in-flight is the live worker's.
    assert merged["agent_inflight_requests{}"] == 1
    assert merged["agent_memory_usage_bytes{}"] == 61_000
    assert merged["agent_latency_p99_seconds{}"] == pytest.approx(2.0, rel=0.01)
