"""Benchmark: probes with dependencies up or hung, database connections, a rolling restart."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from statistics import quantiles

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from benchmarks._common import (
    ROOT,
    Section,
    Served,
    free_port,
    interleaved,
    number,
    progress,
    request,
    runtime_command,
    server_env,
    table,
    verdict,
)
from benchmarks.rolling import Replica, rolling_restart, start_process
from greenlang_runtime.testing import BlackHole, PostgresServer, RedisServer, postgres_bin

__all__ = ["bare_work_app", "run"]

PROBES_PER_ROUND = 500
ROUNDS = 5
TARGET_P99_MS = 5.0
RATES = (1, 10, 50)
RATE_SECONDS = 12.0

_AGENT = "benchmarks.readiness_agent:runtime"
_BODY = json.dumps({"order": "x"}).encode()


async def _work(request: Request) -> JSONResponse:
    await asyncio.sleep(0.02)
    return JSONResponse({"order": (await request.json())["order"]})


async def _ready(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def bare_work_app() -> Starlette:
    """The rolling restart's app on bare uvicorn: the same work route, a ready route."""
    return Starlette(
        routes=[
            Route("/v1/capabilities/work", _work, methods=["POST"]),
            Route("/health/ready", _ready),
        ]
    )


def _probe_ms(port: int, count: int) -> list[float]:
    """``count`` readiness probes, each on a new connection as the kubelet sends them."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        request(port, "GET", "/health/ready")
        times.append((time.perf_counter() - started) * 1000)
    return times


def _percentile(values: list[float], q: int) -> float:
    return quantiles(values, n=100, method="inclusive")[q - 1]


def _probe_latency(postgres: PostgresServer, redis: RedisServer, hole: BlackHole) -> Section:
    hung = f"postgresql://app:pw@127.0.0.1:{hole.port}/db"
    variants = {
        "no dependencies": {},
        "postgres + redis up": {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url},
        "postgres hung, redis up": {"DATABASE_URL": hung, "REDIS_URL": redis.url},
    }
    servers = {}
    for name, env in variants.items():
        port = free_port()
        served = Served(name, runtime_command(_AGENT, port, free_port()), port, server_env(**env))
        served.wait_until_answers("GET", "/health/live")
        servers[name] = served
    time.sleep(3)  # the hung check has timed out at least once
    samples: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for _, name in interleaved(list(variants), ROUNDS):
            samples[name].extend(_probe_ms(servers[name].port, PROBES_PER_ROUND))
    finally:
        for served in servers.values():
            served.stop()
    rows, targets = [], []
    for name, times in samples.items():
        p50, p99 = _percentile(times, 50), _percentile(times, 99)
        rows.append([name, number(len(times)), number(p50, 2), number(p99, 2)])
        if name.startswith("postgres hung"):
            targets.append(
                [
                    f"readiness probe p99 with a hung dependency: < {TARGET_P99_MS:g} ms",
                    f"{p99:.2f} ms",
                    verdict(p99 < TARGET_P99_MS),
                ]
            )
    return Section(
        "Readiness probes with dependencies up and hung",
        f"`GET /health/ready` on a served agent, each probe on a new loopback connection "
        f"as the kubelet sends them, {PROBES_PER_ROUND} probes per variant per round, "
        f"{ROUNDS} rounds interleaved. The hung PostgreSQL is a listener that accepts and "
        "never answers; its check times out every 5 s in the background while the "
        "probes read the last result from memory.",
        [table(["dependencies", "probes", "p50 (ms)", "p99 (ms)"], rows)],
        targets=targets,
    )


def _connections(postgres: PostgresServer) -> Section:
    rows = []
    opened = []
    for rate in RATES:
        port = free_port()
        env = server_env(DATABASE_URL=postgres.url)
        served = Served(f"{rate}/s", runtime_command(_AGENT, port, free_port()), port, env)
        before = postgres.connections_seen()
        try:
            served.wait_until_answers("GET", "/health/ready")
            began = time.monotonic()
            sent = 0
            while time.monotonic() - began < RATE_SECONDS:
                request(port, "GET", "/health/ready")
                sent += 1
                time.sleep(max(0.0, began + sent / rate - time.monotonic()))
        finally:
            served.stop()
        seen = postgres.connections_seen() - before
        opened.append(seen)
        rows.append([f"{rate}/s", number(sent), number(seen)])
    independent = len(set(opened)) == 1
    return Section(
        "Database connections per probe rate",
        f"One agent with `DATABASE_URL`, probed at each rate for {RATE_SECONDS:g} s; "
        "the PostgreSQL server logs every connection it authorizes "
        "(`log_connections`). The check keeps one connection open and reuses it, so "
        "the count does not follow the probe rate.",
        [table(["probe rate", "probes", "connections opened"], rows)],
        targets=[
            [
                "database connections independent of the probe rate",
                ", ".join(f"{r}/s: {n}" for r, n in zip(RATES, opened, strict=True)),
                verdict(independent),
            ]
        ],
    )


def _rolling() -> Section:
    agent_dir = ROOT

    def runtime_replica() -> Replica:
        port = free_port()
        env = server_env(GL_PRESTOP_DELAY_SECONDS="1.5", GL_DRAIN_TIMEOUT_SECONDS="10")
        process, log = start_process(
            runtime_command(_AGENT, port, free_port()), env, str(agent_dir)
        )
        return Replica(process, port, "/health/ready", log)

    def uvicorn_replica() -> Replica:
        port = free_port()
        command = [
            sys.executable, "-m", "uvicorn", "benchmarks.readiness:bare_work_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        ]  # fmt: skip
        process, log = start_process(command, server_env(), str(agent_dir))
        return Replica(process, port, "/health/ready", log)

    rows = []
    failed = {}
    for name, start in (("greenlang-runtime", runtime_replica), ("bare uvicorn", uvicorn_replica)):
        progress(f"rolling restart: {name}")
        outcome = rolling_restart(start, path="/v1/capabilities/work", body=_BODY)
        failed[name] = outcome.failed
        kinds = sorted({f.split(" on port")[0] for f in outcome.failures}) or ["none"]
        rows.append([name, number(outcome.sent), number(outcome.failed), ", ".join(kinds)])
    return Section(
        "Failed requests through a rolling restart",
        "Two replicas replaced one by one (start a new one, wait until it is routed "
        "to, SIGTERM an old one) under steady load: 4 clients, each a request every "
        "50 ms on a new connection to a replica the balancer routes to. A poller asks "
        "each replica's `/health/ready` every 0.1 s, as the kubelet does, and the "
        "balancer follows its answers 0.4 s later, as endpoint removal propagates. "
        "The runtime runs with a 1.5 s pre-stop delay; bare uvicorn serves the same "
        "route and closes its listener at SIGTERM.",
        [table(["server", "requests", "failed", "failures"], rows)],
        targets=[
            [
                "failed requests through a rolling restart: 0",
                f"{failed['greenlang-runtime']} (bare uvicorn: {failed['bare uvicorn']})",
                verdict(failed["greenlang-runtime"] == 0),
            ]
        ],
    )


def run() -> Section:
    """Every readiness figure, as one section."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("the readiness benchmark needs the PostgreSQL server binaries")
    postgres, redis, hole = PostgresServer(bindir), RedisServer(), BlackHole()
    postgres.start()
    redis.start()
    try:
        progress("readiness: probe latency")
        latency = _probe_latency(postgres, redis, hole)
        progress("readiness: database connections")
        connections = _connections(postgres)
        rolling = _rolling()
    finally:
        hole.close()
        redis.remove()
        postgres.remove()
    parts = (latency, connections, rolling)
    return Section(
        "Readiness, dependency checks and rolling restarts",
        "What the dependency checks cost a probe and a database, and what the drain "
        "is worth through a rolling update.",
        [f"### {part.title}\n\n{part.intro}\n\n" + "\n\n".join(part.tables) for part in parts],
        targets=[row for part in parts for row in part.targets],
    )
