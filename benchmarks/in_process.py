"""Benchmark 2a: one JSON echo request, calling each ASGI app directly (no server, no socket)."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp, Message

from benchmarks import apps
from benchmarks._common import (
    PAYLOAD,
    PAYLOAD_BYTES,
    Section,
    interleaved,
    loop_factory,
    median,
    number,
    paired,
    progress,
    table,
    verdict,
)

__all__ = ["run"]

REQUESTS = 20_000
ROUNDS = 7
TARGET_ADDED_US = 7.0

_BASELINE = "Starlette (bare)"
_RUNTIME = "runtime → the same Starlette app"
_CAPABILITY = "runtime capability route"
_TYPED = "runtime capability route, typed (pydantic model in and out)"
_EXPORTER = "Starlette + starlette-exporter"
_FASTAPI = "FastAPI (bare)"
_INSTRUMENTED = "FastAPI + prometheus-fastapi-instrumentator"
_RUNTIME_VARIANTS = (_RUNTIME, _CAPABILITY)


def _scope(path: str) -> dict[str, Any]:
    """An HTTP scope for ``POST path`` with the JSON payload, as uvicorn would build it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(PAYLOAD_BYTES)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _serve(app: ASGIApp, template: dict[str, Any], requests: int) -> float:
    """Microseconds per request of ``app``, called ``requests`` times in a row."""
    disconnect: Message = {"type": "http.disconnect"}
    started = time.perf_counter_ns()
    for _ in range(requests):
        pending: list[Message] = [
            {"type": "http.request", "body": PAYLOAD_BYTES, "more_body": False}
        ]

        async def receive(pending: list[Message] = pending) -> Message:
            return pending.pop() if pending else disconnect

        async def send(message: Message) -> None:
            pass

        await app(dict(template), receive, send)
    return (time.perf_counter_ns() - started) / requests / 1000


async def _check(name: str, app: ASGIApp, template: dict[str, Any]) -> None:
    """Raise unless ``app`` answers the payload with 200 and the same JSON."""
    sent: list[Message] = []
    body = [{"type": "http.request", "body": PAYLOAD_BYTES, "more_body": False}]

    async def receive() -> Message:
        return body.pop() if body else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(dict(template), receive, send)
    status = sent[0].get("status")
    answer = b"".join(m.get("body", b"") for m in sent[1:])
    if status != 200 or json.loads(answer) != PAYLOAD:
        raise RuntimeError(f"{name} answered {status}: {answer!r}")


def run() -> Section:
    """Time each app on the same requests, interleaved over rounds."""
    results = _timed(_variants())
    rows, targets = _rows(results)
    return _section(results, rows, targets)


def _variants() -> dict[str, tuple[ASGIApp, dict[str, Any]]]:
    """Each app with the scope it is called with, built once, outside the timing."""
    runtime = apps.echo_runtime(environ={}, typed=True)
    runtime.lifecycle.startup_complete()  # as once served: calls are not refused as starting
    return {
        _BASELINE: (apps.starlette_echo(), _scope("/echo")),
        _RUNTIME: (runtime.asgi_app, _scope("/echo")),
        _CAPABILITY: (runtime.asgi_app, _scope("/v1/capabilities/echo")),
        _TYPED: (runtime.asgi_app, _scope("/v1/capabilities/echo_typed")),
        _EXPORTER: (apps.exporter_echo(), _scope("/echo")),
        _FASTAPI: (apps.fastapi_echo(), _scope("/echo")),
        _INSTRUMENTED: (
            apps.instrumented_fastapi_echo(CollectorRegistry()),
            _scope("/echo"),
        ),
    }


def _timed(variants: dict[str, tuple[ASGIApp, dict[str, Any]]]) -> dict[str, list[float]]:
    """µs per request of each variant, per round: checked, warmed up, then interleaved."""
    names = list(variants)
    results: dict[str, list[float]] = {name: [] for name in names}
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        for name, (app, template) in variants.items():
            runner.run(_check(name, app, template))
            runner.run(_serve(app, template, REQUESTS // 10))  # warm up
        for round_, name in interleaved(names, ROUNDS):
            if name == names[round_ % len(names)]:
                progress(f"in-process requests: round {round_ + 1} of {ROUNDS}")
            app, template = variants[name]
            gc.collect()
            results[name].append(runner.run(_serve(app, template, REQUESTS)))
    return results


def _rows(results: dict[str, list[float]]) -> tuple[list[list[str]], list[list[str]]]:
    """The table's rows against bare Starlette, and the targets the runtime rows meet."""
    baseline = results[_BASELINE]
    rows = []
    targets = []
    for name in results:
        added = paired(results[name], baseline)
        target = "—"
        if name in _RUNTIME_VARIANTS:
            target = verdict(added <= TARGET_ADDED_US)
            targets.append(
                [
                    f"in-process, {name}: ≤ {TARGET_ADDED_US:g} µs added per request",
                    f"{added:+.1f} µs",
                    target,
                ]
            )
        rows.append(
            [
                name,
                number(median(results[name]), 1),
                "—" if name == _BASELINE else f"{added:+,.1f}",
                f"{median(r / b for r, b in zip(results[name], baseline, strict=True)):.2f}",
                target,
            ]
        )
    return rows, targets


def _section(
    results: dict[str, list[float]], rows: list[list[str]], targets: list[list[str]]
) -> Section:
    """The section: what was timed and how, the table, typed against untyped."""
    typed_us = paired(results[_TYPED], results[_CAPABILITY])
    typed_ratio = median(t / u for t, u in zip(results[_TYPED], results[_CAPABILITY], strict=True))
    return Section(
        title="2a. Cost per request, in-process",
        intro=(
            f"`POST /echo` with a {len(PAYLOAD_BYTES)}-byte JSON object, answered as JSON, "
            "calling each ASGI app "
            "directly: the benchmark builds the scope, `receive` and `send` itself (no "
            "server, no socket, no HTTP parsing), so only the framework and the "
            "instrumentation are timed. "
            f"{REQUESTS:,} requests per variant per round, {ROUNDS} rounds interleaved, "
            "one event loop (uvloop). The runtime rows use one `AgentRuntime` (its lifespan "
            "not started, its phase moved past startup as a served agent's is): `/echo` goes "
            "through the runtime's metrics wrapper to the bare Starlette app; "
            "`/v1/capabilities/echo` is the runtime's own route to an async `echo` "
            "capability taking and returning a `dict`; `/v1/capabilities/echo_typed` is the "
            "same echo with a pydantic model (`product: str, mass_kg: float, tags: "
            "list[str]`) as its parameter and return annotation, so the payload is "
            "validated into the model and the result dumped from it. The FastAPI rows take "
            "the body as a validated `dict` parameter and return it. Each app is built "
            "once, outside the timing. "
            "*Added* and the ratio are medians of the per-round values against bare "
            "Starlette."
        ),
        tables=[
            table(
                [
                    "app",
                    "µs/request",
                    "added µs vs Starlette",
                    "× Starlette time",
                    f"target ≤ {TARGET_ADDED_US:g} µs added",
                ],
                rows,
            )
        ],
        notes=[
            "Typed against untyped payload, in the same run: the typed capability route "
            f"costs {typed_us:+.1f} µs per request ({typed_ratio:.2f}× the untyped route's "
            "time; median of per-round differences and ratios)."
        ],
        targets=targets,
    )
