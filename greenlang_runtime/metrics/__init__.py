"""The platform's standard metric set, recorded cheaply and exposed at scrape time."""

from __future__ import annotations

from greenlang_runtime.metrics._collector import (
    LATENCY_WINDOW_SECONDS,
    MAX_ERROR_TYPES,
    OTHER,
    AgentMetrics,
    CallStats,
)
from greenlang_runtime.metrics._merge import (
    Exposition,
    Retired,
    merge_expositions,
    parse_exposition,
)
from greenlang_runtime.metrics._quantiles import SketchState, SlidingQuantiles

__all__ = [
    "LATENCY_WINDOW_SECONDS",
    "MAX_ERROR_TYPES",
    "OTHER",
    "AgentMetrics",
    "CallStats",
    "Exposition",
    "Retired",
    "SketchState",
    "SlidingQuantiles",
    "merge_expositions",
    "parse_exposition",
]
