"""What the workers benchmark serves: the echo runtime plus a CPU-bound capability."""

from __future__ import annotations

from typing import Any

from benchmarks.apps import echo_runtime

__all__ = ["SPIN_ITERATIONS", "runtime"]

# About 1 ms of pure-Python work per call on an idle core of the benchmark machine.
SPIN_ITERATIONS = 5000

runtime = echo_runtime()


@runtime.capability
async def spin(payload: dict[str, Any]) -> dict[str, int]:
    """A fixed amount of pure-Python arithmetic: what one worker's core limits."""
    total = 0
    for i in range(SPIN_ITERATIONS):
        total += i * i % 7
    return {"total": total}
