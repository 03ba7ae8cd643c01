"""Benchmark 9: GL_WORKERS, requests per second with 1 and 2 workers, and the scrape's cost."""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import time
from pathlib import Path
from statistics import median, quantiles

from benchmarks._common import (
    LOAD_CPU,
    PAYLOAD_BYTES,
    PINNED,
    Section,
    Served,
    free_port,
    interleaved,
    number,
    progress,
    runtime_command,
    server_env,
    table,
    verdict,
)
from benchmarks.http_loopback import _SCRIPT, _wrk

__all__ = ["run"]

ROUNDS = 6
SECONDS = 2
WARM_UP_SECONDS = 1
SCRAPES = 40
TARGET_RATIO = 1.7
_TARGET = "benchmarks.workers_agent:runtime"
_ROUTES = (("CPU-bound (~1 ms)", "/v1/capabilities/spin"), ("echo", "/v1/capabilities/echo"))


def _serve(workers: int) -> Served:
    """The benchmark agent with ``workers`` workers, on as many CPUs (at most the machine's)."""
    port = free_port()
    served = Served(
        f"{workers} worker(s)",
        runtime_command(_TARGET, port, free_port()),
        port,
        env=server_env(GL_WORKERS=str(workers)),
    )
    if PINNED:
        # Before the workers start (they inherit it): one CPU per worker.
        os.sched_setaffinity(served.process.pid, set(range(min(workers, os.cpu_count() or 1))))
    served.wait_until_answers("POST", "/v1/capabilities/spin", PAYLOAD_BYTES)
    served.wait_until_answers("GET", "/health/ready")
    return served


def _metrics_port(served: Served) -> int:
    """The ``--metrics-port`` the server was started with."""
    args = [str(arg) for arg in served.process.args]  # type: ignore[union-attr]
    return int(args[args.index("--metrics-port") + 1])


def _scrape_ms(port: int) -> list[float]:
    """Milliseconds per ``GET /metrics``, one connection per scrape as Prometheus does."""
    times = []
    for _ in range(SCRAPES):
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        response.read()
        connection.close()
        times.append((time.perf_counter() - started) * 1000)
    return times


_TITLE = "9. Workers: requests per second with 1 and 2 workers, and the scrape's cost"
# Each load: (workers, route name, path), for both routes and 1 and 2 workers.
_LOADS = [(workers, name, path) for name, path in _ROUTES for workers in (1, 2)]
_Key = tuple[int, str]


def run() -> Section:
    """Load each route of 1 and 2 workers in interleaved rounds; then time scrapes of 1, 2, 4."""
    if shutil.which("wrk") is None:
        return Section(_TITLE, "Skipped: `wrk` is not installed (`make bench` installs it).", [])
    with tempfile.TemporaryDirectory() as directory:
        script = Path(directory) / "post.lua"
        script.write_text(_SCRIPT, encoding="utf-8")
        rates, errors, scrapes = _loads(script)
        scrapes[4] = _four_workers_scrapes(script)
    rows, targets = _rows(rates, errors)
    scrape_rows = [
        [str(w), f"{median(t):.2f}", f"{quantiles(t, n=10)[-1]:.2f}"] for w, t in scrapes.items()
    ]
    return _section(rows, scrape_rows, targets)


def _loads(
    script: Path,
) -> tuple[dict[_Key, list[float]], dict[_Key, int], dict[int, list[float]]]:
    """req/s and errors per round of each load on 1 and 2 workers, then their scrape times."""
    rates: dict[_Key, list[float]] = {(w, p): [] for w, _, p in _LOADS}
    errors: dict[_Key, int] = {(w, p): 0 for w, _, p in _LOADS}
    progress("workers: starting 1 and 2 workers")
    servers = {1: _serve(1), 2: _serve(2)}
    try:
        for workers, _, path in _LOADS:
            _wrk(script, servers[workers].port, path, WARM_UP_SECONDS)
        for round_, (workers, _, path) in interleaved(_LOADS, ROUNDS):
            if (workers, path) == (_LOADS[0][0], _LOADS[0][2]):
                progress(f"workers: round {round_ + 1} of {ROUNDS}")
            load = _wrk(script, servers[workers].port, path, SECONDS)
            rates[workers, path].append(load.rate)
            errors[workers, path] += load.errors
        scrapes = {1: _scrape_ms(_metrics_port(servers[1])), 2: []}
        scrapes[2] = _scrape_ms(_metrics_port(servers[2]))
    finally:
        for server in servers.values():
            server.stop()
    return rates, errors, scrapes


def _four_workers_scrapes(script: Path) -> list[float]:
    """Scrape times of 4 workers, after a warm-up load."""
    progress("workers: scrapes with 4 workers")
    four = _serve(4)
    try:
        _wrk(script, four.port, "/v1/capabilities/echo", WARM_UP_SECONDS)
        return _scrape_ms(_metrics_port(four))
    finally:
        four.stop()


def _rows(
    rates: dict[_Key, list[float]], errors: dict[_Key, int]
) -> tuple[list[list[str]], list[list[str]]]:
    """A row per route and worker count, and the CPU-bound route's target."""
    rows, targets = [], []
    for name, path in _ROUTES:
        one, two = rates[1, path], rates[2, path]
        ratio = median(b / a for a, b in zip(one, two, strict=True))
        for workers, values in ((1, one), (2, two)):
            rows.append(
                [
                    name,
                    str(workers),
                    number(median(values)),
                    " / ".join(number(v) for v in values),
                    "1.00" if workers == 1 else f"{ratio:.2f}",
                    str(errors[workers, path]),
                ]
            )
        if path.endswith("spin"):
            targets.append(
                [
                    f"{name} capability, 2 workers: ≥ {TARGET_RATIO:g}× the req/s of 1",
                    f"{ratio:.2f}×",
                    verdict(ratio >= TARGET_RATIO),
                ]
            )
    return rows, targets


def _section(
    rows: list[list[str]], scrape_rows: list[list[str]], targets: list[list[str]]
) -> Section:
    """The section: how the workers were loaded and scraped, both tables."""
    return Section(
        title=_TITLE,
        intro=(
            "The agent of `benchmarks/workers_agent.py` served with `GL_WORKERS=1` (a "
            "single process) and `GL_WORKERS=2` (a supervisor and two workers), loaded by "
            f"`wrk -t1 -c32 -d{SECONDS}s` posting the JSON body to a CPU-bound capability "
            "(a fixed loop of pure-Python arithmetic, about 1 ms on an idle core) and to the "
            f"echo capability; {ROUNDS} interleaved rounds after a {WARM_UP_SECONDS} s warm-up, "
            "the ratio is the median of the per-round ratios. "
            + (
                f"1 worker runs on CPU 0, 2 workers on CPUs 0 and 1, and wrk on CPU {LOAD_CPU}: "
                "on this 2-core machine the second worker shares its core with wrk, and the "
                "machine is shared with other jobs, so the ratio is a floor. "
                if PINNED
                else "wrk and the servers share the machine's cores. "
            )
            + "Then the cost of one scrape (`GET /metrics` on a new connection, "
            f"{SCRAPES} in a row, idle agent after load) with 1 (a single process), 2 and 4 "
            "workers: with workers it includes asking every worker for its metrics over "
            "its socket pair, parsing and merging them (docs/workers.md)."
        ),
        tables=[
            table(
                ["route", "workers", "req/s (median)", "req/s per round", "× 1 worker", "errors"],
                rows,
            ),
            table(["workers", "scrape ms (median)", "scrape ms (p90)"], scrape_rows),
        ],
        targets=targets,
    )
