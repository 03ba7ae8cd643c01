"""Resident memory and CPU use of this process, read at scrape time."""

from __future__ import annotations

import os
import resource
import sys
import time

__all__ = ["CpuMeter", "resident_memory_bytes"]

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_memory_bytes() -> int:
    """Current resident set size; the peak where the current one is not readable."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # ru_maxrss is in bytes on macOS and in KiB elsewhere.
        return peak if sys.platform == "darwin" else peak * 1024


class CpuMeter:
    """CPU use in percent of one core, averaged since the previous reading.

    Readings closer together than ``min_interval`` seconds repeat the last
    value, so two scrapers a moment apart both see a meaningful average
    instead of the noise of a few milliseconds.
    """

    __slots__ = ("_last_cpu", "_last_percent", "_last_wall", "_min_interval")

    def __init__(self, min_interval: float = 1.0) -> None:
        self._min_interval = min_interval
        self._last_cpu = time.process_time()
        self._last_wall = time.monotonic()
        self._last_percent = 0.0

    def percent(self) -> float:
        """Process CPU time over wall time since the previous reading, times 100."""
        wall = time.monotonic()
        elapsed = wall - self._last_wall
        if elapsed >= self._min_interval:
            cpu = time.process_time()
            self._last_percent = 100.0 * (cpu - self._last_cpu) / elapsed
            self._last_cpu, self._last_wall = cpu, wall
        return self._last_percent
