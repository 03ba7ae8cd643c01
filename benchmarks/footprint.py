"""Benchmark 3: ``import greenlang_runtime`` time and the idle resident memory of a served agent."""

from __future__ import annotations

import subprocess
import sys
import time
from statistics import median

from benchmarks._common import (
    PAYLOAD_BYTES,
    ROOT,
    Section,
    Served,
    free_port,
    interleaved,
    number,
    progress,
    runtime_command,
    server_env,
    table,
    uvicorn_command,
    verdict,
)

__all__ = ["run"]

IMPORT_RUNS = 15
RSS_ROUNDS = 3
SETTLE_SECONDS = 1.0
TARGET_IMPORT_MS = 50.0
TARGET_RSS_MIB = 40.0

_BASELINE_IMPORT = "starlette.applications, prometheus_client"
_RUNTIME_IMPORT = "greenlang_runtime"
_TIMED_IMPORT = (
    "import time\nstarted = time.perf_counter()\nimport {}\nprint(time.perf_counter() - started)\n"
)
_BARE = "uvicorn + minimal Starlette app"
_AGENT = "runtime serving examples/minimal/agent.py"


def _import_ms(modules: str) -> float:
    """Milliseconds to ``import modules`` in a fresh interpreter."""
    completed = subprocess.run(
        [sys.executable, "-c", _TIMED_IMPORT.format(modules)],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout) * 1000


def _serve(name: str) -> Served:
    """Start ``name`` and return it once it answers."""
    port = free_port()
    if name == _AGENT:
        command = runtime_command("examples.minimal.agent:runtime", port, free_port())
    else:
        command = uvicorn_command("starlette_echo", port)
    served = Served(name, command, port)
    try:
        if name == _AGENT:
            served.wait_until_answers("GET", "/health/startup")
        else:
            served.wait_until_answers("POST", "/echo", PAYLOAD_BYTES)
    except BaseException:
        served.stop()
        raise
    return served


def _resident_mib(name: str) -> float:
    """Start ``name``, let it settle once it answers, read its ``VmRSS``, stop it."""
    served = _serve(name)
    try:
        time.sleep(SETTLE_SECONDS)
        return served.resident_mib()
    finally:
        served.stop()


_SERVERS = [_BARE, _AGENT]


def run() -> Section:
    """Time the imports in fresh interpreters and read the idle RSS, interleaved."""
    return _section(_import_times(), _resident_sizes())


def _import_times() -> dict[str, list[float]]:
    """ms per import, each in a fresh interpreter, the two imports in turns."""
    imports = [_BASELINE_IMPORT, _RUNTIME_IMPORT]
    import_ms: dict[str, list[float]] = {modules: [] for modules in imports}
    progress(f"imports: {IMPORT_RUNS} fresh interpreters each")
    for modules in imports:  # warm the file cache and the bytecode caches
        _import_ms(modules)
    for _, modules in interleaved(imports, IMPORT_RUNS):
        import_ms[modules].append(_import_ms(modules))
    return import_ms


def _resident_sizes() -> dict[str, list[float]]:
    """VmRSS in MiB of each idle server, per start, the two in turns."""
    rss: dict[str, list[float]] = {name: [] for name in _SERVERS}
    progress(f"idle RSS: {RSS_ROUNDS} starts each")
    for _, name in interleaved(_SERVERS, RSS_ROUNDS):
        rss[name].append(_resident_mib(name))
    return rss


def _section(import_ms: dict[str, list[float]], rss: dict[str, list[float]]) -> Section:
    """The section: both tables, how they were measured, and the targets."""
    baseline_ms = median(import_ms[_BASELINE_IMPORT])
    runtime_ms = median(import_ms[_RUNTIME_IMPORT])
    added_ms = runtime_ms - baseline_ms
    import_table = table(
        ["import", "ms (median)", "vs baseline", f"target ≤ +{TARGET_IMPORT_MS:g} ms"],
        [
            [f"`import {_BASELINE_IMPORT}` (baseline)", number(baseline_ms, 1), "—", "—"],
            [
                f"`import {_RUNTIME_IMPORT}`",
                number(runtime_ms, 1),
                f"{added_ms:+,.1f} ms",
                verdict(added_ms <= TARGET_IMPORT_MS),
            ],
        ],
    )
    bare_mib = median(rss[_BARE])
    agent_mib = median(rss[_AGENT])
    rss_table = table(
        ["process", "VmRSS MiB (median)", "per start", f"target ≤ {TARGET_RSS_MIB:g} MiB"],
        [
            [
                name,
                number(median(rss[name]), 1),
                " / ".join(number(value, 1) for value in rss[name]),
                verdict(agent_mib <= TARGET_RSS_MIB) if name == _AGENT else "—",
            ]
            for name in _SERVERS
        ],
    )
    return Section(
        title="3. Import time and idle memory",
        intro=(
            f"Import time: each import timed inside a fresh interpreter "
            f"(`time.perf_counter()` around the `import` statement, interpreter start-up "
            f"excluded), {IMPORT_RUNS} runs of each, alternating, after one untimed run "
            "of each to warm the caches. The baseline is what any Starlette service with "
            "Prometheus metrics imports anyway.\n\n"
            "Idle memory: `VmRSS` from `/proc/PID/status`, read "
            f"{SETTLE_SECONDS:g} s after the process first answered (the runtime: "
            "`GET /health/startup` 200, so its startup hook has run; uvicorn: a `POST /echo`). "
            "The runtime is `python -m greenlang_runtime run examples.minimal.agent:runtime` "
            "(two listeners, the loop watchdog thread); the comparison is "
            "`python -m uvicorn` (httptools, uvloop) serving a one-route Starlette app. "
            f"{RSS_ROUNDS} starts of each, alternating."
        ),
        tables=[import_table, rss_table],
        notes=[
            f"The runtime's process is {agent_mib - bare_mib:+.1f} MiB against bare "
            "uvicorn + Starlette in this run."
        ],
        targets=[
            [
                f"`import greenlang_runtime`: ≤ {TARGET_IMPORT_MS:g} ms above the baseline",
                f"{added_ms:+.1f} ms",
                verdict(added_ms <= TARGET_IMPORT_MS),
            ],
            [
                f"idle RSS of a served agent: ≤ {TARGET_RSS_MIB:g} MiB",
                f"{agent_mib:.1f} MiB",
                verdict(agent_mib <= TARGET_RSS_MIB),
            ],
        ],
    )
