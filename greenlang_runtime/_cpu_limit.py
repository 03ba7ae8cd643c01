"""How many CPUs the container may use: the cgroup's CPU limit, else the affinity mask.

``GL_WORKERS=auto`` asks for one worker per CPU the pod is given. The host's
count (``os.cpu_count()``) is wrong in a container: a pod limited to 2 CPUs
on a 64-core node would start 64 workers. The limit is the cgroup's CPU
bandwidth quota divided by its period:

- cgroup v2: ``cpu.max`` holds ``"<quota> <period>"`` or ``"max <period>"``;
- cgroup v1: ``cpu.cfs_quota_us`` (``-1`` for none) and ``cpu.cfs_period_us``
  in the ``cpu`` controller's hierarchy.

A limit set on a parent cgroup binds its children too, so the tightest limit
of the process's cgroup and its ancestors counts. A cgroup file that is
missing or unreadable sets no limit: the count then falls back to the CPUs
the process may run on (``os.sched_getaffinity``), which a cpuset or
``taskset`` narrows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["auto_workers", "cgroup_cpu_limit", "runnable_cpus"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """The CPUs the process's cgroup allows (e.g. 1.5), or ``None`` when unlimited.

    Args:
        root: where the cgroup file systems are mounted.
        proc_cgroup: the process's cgroup membership (``/proc/self/cgroup``).
    """
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers:  # the v2 unified hierarchy
            for directory in _ancestors(root, path):
                limits.extend(_v2_limit(directory / "cpu.max"))
        elif "cpu" in controllers.split(","):
            for mount in (root / controllers, root / "cpu"):
                if mount.is_dir():
                    for directory in _ancestors(mount, path):
                        limits.extend(_v1_limit(directory))
                    break
    return min(limits, default=None)


def runnable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask; the CPU count without one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def auto_workers(
    cpu_limit: Callable[[], float | None] = cgroup_cpu_limit,
    cpus: Callable[[], int] = runnable_cpus,
) -> int:
    """``GL_WORKERS=auto``: the CPU limit rounded up (at least 1), else the runnable CPUs."""
    limit = cpu_limit()
    if limit is None:
        return cpus()
    return max(math.ceil(limit), 1)


def _ancestors(mount: Path, path: str) -> Iterator[Path]:
    """The process's cgroup directory under ``mount``, then each parent up to ``mount``.

    In a container with its own cgroup namespace the path is ``/`` and the
    mount is the container's cgroup; without one, the path may name a host
    directory that is not visible here, and only the mount itself is read.
    """
    directory = mount.joinpath(*[part for part in path.split("/") if part not in ("", ".", "..")])
    if not directory.is_dir():
        yield mount
        return
    while True:
        yield directory
        if directory == mount:
            return
        directory = directory.parent


def _v2_limit(cpu_max: Path) -> list[float]:
    try:
        quota, period = cpu_max.read_text().split()
    except (OSError, ValueError):
        return []
    if quota == "max":
        return []
    return _ratio(quota, period)


def _v1_limit(directory: Path) -> list[float]:
    try:
        quota = (directory / "cpu.cfs_quota_us").read_text().strip()
        period = (directory / "cpu.cfs_period_us").read_text().strip()
    except OSError:
        return []
    return _ratio(quota, period)


def _ratio(quota: str, period: str) -> list[float]:
    """``[quota / period]``, or nothing when either is not a positive whole number."""
    if not (quota.isascii() and quota.isdigit() and period.isascii() and period.isdigit()):
        return []  # "-1" in v1 means no quota
    if int(quota) == 0 or int(period) == 0:
        return []
    return [int(quota) / int(period)]
