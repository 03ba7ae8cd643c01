"""The platform's standard metric set, recorded cheaply and exposed at scrape time."""

from __future__ import annotations

from greenlang_runtime.metrics._collector import (
    MAX_ERROR_TYPES,
    OTHER,
    AgentMetrics,
    CallStats,
)

__all__ = [
    "MAX_ERROR_TYPES",
    "OTHER",
    "AgentMetrics",
    "CallStats",
]
