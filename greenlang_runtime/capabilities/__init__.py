"""Capabilities: an author's functions, measured and served in one place."""

from __future__ import annotations

from greenlang_runtime.capabilities._capability import (
    SYNC_THREADS,
    CallObserver,
    Capability,
    Outcome,
    ResultNotJson,
    describe,
)

__all__ = [
    "SYNC_THREADS",
    "CallObserver",
    "Capability",
    "Outcome",
    "ResultNotJson",
    "describe",
]
