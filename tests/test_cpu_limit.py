"""GL_WORKERS=auto: the CPU limit read from a fake cgroup tree, never the host's."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenlang_runtime._cpu_limit import auto_workers, cgroup_cpu_limit


def v2_tree(tmp_path: Path, limits: dict[str, str], member: str = "/") -> tuple[Path, Path]:
    """A cgroup v2 mount with ``cpu.max`` files at the given paths; the process in ``member``."""
    root = tmp_path / "cgroup"
    for path, content in limits.items():
        directory = root / path.strip("/")
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "cpu.max").write_text(content + "\n")
    (root / member.strip("/")).mkdir(parents=True, exist_ok=True)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(f"0::{member}\n")
    return root, proc


def v1_tree(tmp_path: Path, quota: str, period: str = "100000") -> tuple[Path, Path]:
    """A cgroup v1 ``cpu,cpuacct`` hierarchy seen from inside a container."""
    root = tmp_path / "cgroup"
    cpu = root / "cpu,cpuacct"
    cpu.mkdir(parents=True)
    (cpu / "cpu.cfs_quota_us").write_text(quota + "\n")
    (cpu / "cpu.cfs_period_us").write_text(period + "\n")
    proc = tmp_path / "proc-self-cgroup"
    # The host's path, not visible in the container: the mount itself is read.
    proc.write_text(
        "12:memory:/kubepods/pod1/c1\n4:cpu,cpuacct:/kubepods/pod1/c1\n1:name=systemd:/x\n"
    )
    return root, proc


def workers(root: Path, proc: Path, cpus: int = 7) -> int:
    return auto_workers(lambda: cgroup_cpu_limit(root, proc), lambda: cpus)


def test_v2_without_a_limit_uses_the_runnable_cpus(tmp_path: Path) -> None:
    """``max 100000`` is no limit: as many workers as CPUs the process may run on."""
    root, proc = v2_tree(tmp_path, {"/": "max 100000"})
    assert cgroup_cpu_limit(root, proc) is None
    assert workers(root, proc, cpus=7) == 7


def test_v2_one_and_a_half_cpus_round_up_to_two_workers(tmp_path: Path) -> None:
    """``150000 100000`` is 1.5 CPUs: 2 workers."""
    root, proc = v2_tree(tmp_path, {"/": "150000 100000"})
    assert cgroup_cpu_limit(root, proc) == 1.5
    assert workers(root, proc) == 2


def test_v2_a_fraction_of_a_cpu_still_gets_one_worker(tmp_path: Path) -> None:
    """``20000 100000`` (200m) gives at least one worker."""
    root, proc = v2_tree(tmp_path, {"/": "20000 100000"})
    assert workers(root, proc) == 1


def test_v2_the_tightest_of_the_cgroup_and_its_parents_counts(tmp_path: Path) -> None:
    """A parent limited to 3 CPUs binds a child that asks for 4 (and has none of its own)."""
    root, proc = v2_tree(
        tmp_path,
        {
            "/": "max 100000",
            "/kubepods/pod1": "300000 100000",
            "/kubepods/pod1/c1": "400000 100000",
        },
        member="/kubepods/pod1/c1",
    )
    assert cgroup_cpu_limit(root, proc) == 3.0
    assert workers(root, proc) == 3


def test_v1_quota_over_period(tmp_path: Path) -> None:
    """``cfs_quota_us`` 250000 over ``cfs_period_us`` 100000: 2.5 CPUs, 3 workers."""
    root, proc = v1_tree(tmp_path, "250000")
    assert cgroup_cpu_limit(root, proc) == 2.5
    assert workers(root, proc) == 3


def test_v1_quota_minus_one_is_no_limit(tmp_path: Path) -> None:
    """``-1`` is v1's "no quota": the runnable CPUs count."""
    root, proc = v1_tree(tmp_path, "-1")
    assert cgroup_cpu_limit(root, proc) is None
    assert workers(root, proc, cpus=2) == 2


@pytest.mark.parametrize("content", ["", "garbage", "150000", "0 100000", "abc 100000"])
def test_unreadable_cpu_max_sets_no_limit(tmp_path: Path, content: str) -> None:
    """A malformed ``cpu.max`` is ignored rather than guessed at."""
    root, proc = v2_tree(tmp_path, {"/": content})
    assert cgroup_cpu_limit(root, proc) is None


def test_no_cgroup_file_at_all(tmp_path: Path) -> None:
    """Outside Linux cgroups (no /proc/self/cgroup) there is no limit."""
    assert cgroup_cpu_limit(tmp_path, tmp_path / "missing") is None
