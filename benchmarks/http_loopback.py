"""Benchmark 2b: JSON echo throughput over loopback HTTP, each app under uvicorn, load from wrk."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from benchmarks._common import (
    LOAD_CPU,
    PAYLOAD_BYTES,
    PINNED,
    SERVER_CPU,
    Section,
    Served,
    free_port,
    interleaved,
    number,
    pin,
    progress,
    runtime_command,
    table,
    uvicorn_command,
    verdict,
)

__all__ = ["run"]

ROUNDS = 16
SECONDS = 2
WARM_UP_SECONDS = 1
THREADS = 1
CONNECTIONS = 32
TARGET_RATIO = 0.95

_CAPABILITY_PATH = "/v1/capabilities/echo"
_SCRIPT = f"""\
wrk.method = "POST"
wrk.body = '{PAYLOAD_BYTES.decode()}'
wrk.headers["Content-Type"] = "application/json"
"""


@dataclass(frozen=True)
class _Variant:
    """One row: a route of one of the servers."""

    name: str
    server: str
    path: str
    runtime: bool = False


_VARIANTS = (
    _Variant("Starlette (bare)", "starlette", "/echo"),
    _Variant("runtime → the same Starlette app", "runtime", "/echo", runtime=True),
    _Variant("runtime capability route", "runtime", _CAPABILITY_PATH, runtime=True),
    _Variant("Starlette + starlette-exporter", "exporter", "/echo"),
    _Variant("FastAPI (bare)", "fastapi", "/echo"),
    _Variant("FastAPI + prometheus-fastapi-instrumentator", "instrumented", "/echo"),
)
_BASELINE = _VARIANTS[0]


@dataclass
class _Load:
    """What one wrk run reports."""

    rate: float
    errors: int


def _wrk(script: Path, port: int, path: str, seconds: int) -> _Load:
    """Run wrk against ``127.0.0.1:port/path``; return requests per second and errors."""
    completed = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: pin(0, LOAD_CPU),
    )
    out = completed.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors is not None:
        errors += sum(int(n) for n in socket_errors.groups())
    return _Load(float(rate.group(1)), errors)


def _start_servers() -> dict[str, Served]:
    """Start every server; return them once each answers ``POST /echo``."""
    servers: dict[str, Served] = {}
    try:
        for key, factory in (
            ("starlette", "starlette_echo"),
            ("exporter", "exporter_echo"),
            ("fastapi", "fastapi_echo"),
            ("instrumented", "instrumented_fastapi_echo"),
        ):
            port = free_port()
            servers[key] = Served(key, uvicorn_command(factory, port), port)
        port = free_port()
        servers["runtime"] = Served(
            "runtime",
            runtime_command("benchmarks.served:runtime", port, free_port()),
            port,
        )
        for server in servers.values():
            server.wait_until_answers("POST", "/echo", PAYLOAD_BYTES)
        servers["runtime"].wait_until_answers("POST", _CAPABILITY_PATH, PAYLOAD_BYTES)
        servers["runtime"].wait_until_answers("GET", "/health/startup")
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers


_TITLE = "2b. Throughput over loopback HTTP"


def run() -> Section:
    """Load each route with wrk in interleaved rounds; report median req/s and ratios."""
    if shutil.which("wrk") is None:
        return Section(_TITLE, "Skipped: `wrk` is not installed (`make bench` installs it).", [])
    rows, targets = _rows(_loads())
    return _section(rows, targets)


def _loads() -> dict[str, list[_Load]]:
    """wrk's figures per variant and round: every server up, each route warmed up, in turns."""
    loads: dict[str, list[_Load]] = {variant.name: [] for variant in _VARIANTS}
    with tempfile.TemporaryDirectory() as directory:
        script = Path(directory) / "post.lua"
        script.write_text(_SCRIPT, encoding="utf-8")
        progress("loopback HTTP: starting the servers")
        servers = _start_servers()
        try:
            for variant in _VARIANTS:
                _wrk(script, servers[variant.server].port, variant.path, WARM_UP_SECONDS)
            for round_, variant in interleaved(_VARIANTS, ROUNDS):
                if variant == _VARIANTS[round_ % len(_VARIANTS)]:
                    progress(f"loopback HTTP: round {round_ + 1} of {ROUNDS}")
                server = servers[variant.server]
                loads[variant.name].append(_wrk(script, server.port, variant.path, SECONDS))
        finally:
            for server in servers.values():
                server.stop()
    return loads


def _rows(loads: dict[str, list[_Load]]) -> tuple[list[list[str]], list[list[str]]]:
    """The table's rows (ratios to bare Starlette per round), and the runtime's targets."""
    baseline = [load.rate for load in loads[_BASELINE.name]]
    rows = []
    targets = []
    for variant in _VARIANTS:
        rates = [load.rate for load in loads[variant.name]]
        ratio = median(r / b for r, b in zip(rates, baseline, strict=True))
        if variant.runtime:
            targets.append(
                [
                    f"loopback HTTP, {variant.name}: ≥ {TARGET_RATIO:g}× Starlette req/s",
                    f"{ratio:.2f}×",
                    verdict(ratio >= TARGET_RATIO),
                ]
            )
        rows.append(
            [
                variant.name,
                number(median(rates)),
                " / ".join(number(rate) for rate in rates),
                f"{ratio:.2f}",
                str(sum(load.errors for load in loads[variant.name])),
                verdict(ratio >= TARGET_RATIO) if variant.runtime else "—",
            ]
        )
    return rows, targets


def _section(rows: list[list[str]], targets: list[list[str]]) -> Section:
    """The section: how the servers were run and loaded, and the table."""
    return Section(
        title=_TITLE,
        intro=(
            "The same `POST /echo` (and the runtime's `POST /v1/capabilities/echo`), each "
            "app served by uvicorn in its own process (1 worker, httptools, uvloop, access "
            "log off, log level warning, no `server` header), loaded by "
            f"`wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s` with a Lua script that posts "
            "the JSON body. The runtime is served the way agents are, "
            "`python -m greenlang_runtime run benchmarks.served:runtime` (its second "
            "listener, for `/metrics`, idle). All servers run throughout; each route is "
            f"warmed up for {WARM_UP_SECONDS} s, then the routes take turns, {ROUNDS} "
            "rounds. The ratio is the median of the per-round ratios to bare Starlette. "
            + (
                f"Servers are pinned to CPU {SERVER_CPU} and wrk to CPU {LOAD_CPU}. "
                if PINNED
                else "wrk and the servers share the machine's cores. "
            )
            + "Absolute figures are lower than on a dedicated host; the ratios are what "
            "is compared."
        ),
        tables=[
            table(
                [
                    "server, route",
                    "req/s (median)",
                    "req/s per round",
                    "× Starlette",
                    "errors",
                    f"target ≥ {TARGET_RATIO:g}×",
                ],
                rows,
            )
        ],
        targets=targets,
    )
