"""What the loopback benchmark serves with ``greenlang-runtime run benchmarks.served:runtime``."""

from __future__ import annotations

from benchmarks.apps import echo_runtime

runtime = echo_runtime()
