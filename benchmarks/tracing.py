"""Benchmark 5: what tracing costs a capability call and a request, off and on, side by side."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import opentelemetry.trace as trace_api
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

from benchmarks import apps
from benchmarks._common import (
    PAYLOAD,
    PAYLOAD_BYTES,
    Section,
    Served,
    free_port,
    interleaved,
    loop_factory,
    median,
    number,
    paired,
    progress,
    runtime_command,
    server_env,
    table,
    verdict,
)
from benchmarks.http_loopback import _SCRIPT, _wrk
from benchmarks.in_process import _scope, _serve
from greenlang_runtime import AgentRuntime

__all__ = ["run"]

CALLS = 100_000
REQUESTS = 10_000
ROUNDS = 7
HTTP_ROUNDS = 8
HTTP_SECONDS = 2
TARGET_ADDED_US = 4.0

_OFF, _ZERO, _ONE = "off", "on, sampling 0", "on, sampling 1"
_VARIANTS = (_OFF, _ZERO, _ONE)
_RATIOS = {_ZERO: 0.0, _ONE: 1.0}
_CAPABILITY_PATH = "/v1/capabilities/echo"


class _Discard(SpanExporter):
    """Takes every batch and drops it: the SDK's cost without a network's."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _echo_sync(payload: dict[str, object]) -> dict[str, object]:
    """Return the payload."""
    return payload


def _runtime(ratio: float | None) -> tuple[AgentRuntime, TracerProvider | None]:
    """An echo runtime; with ``ratio``, traced through a provider the application set up."""
    provider = None
    if ratio is not None:
        provider = TracerProvider(sampler=TraceIdRatioBased(ratio))
        provider.add_span_processor(BatchSpanProcessor(_Discard()))
    trace_api._TRACER_PROVIDER = provider  # as set_tracer_provider() would, undone below
    try:
        runtime = apps.echo_runtime(environ={})
        runtime.capability("echo_sync")(_echo_sync)
    finally:
        trace_api._TRACER_PROVIDER = None
    runtime.lifecycle.startup_complete()
    return runtime, provider


def _per_call(function: Callable[[Any], Any], calls: int) -> float:
    """Nanoseconds per ``function(PAYLOAD)``."""
    payload = PAYLOAD
    started = time.perf_counter_ns()
    for _ in range(calls):
        function(payload)
    return (time.perf_counter_ns() - started) / calls


def _in_process() -> dict[str, dict[str, list[float]]]:
    """Direct sync calls (ns) and in-process capability requests (µs), per variant and round."""
    built = {v: _runtime(_RATIOS.get(v)) for v in _VARIANTS}
    direct: dict[str, list[float]] = {v: [] for v in ("bare", *_VARIANTS)}
    http: dict[str, list[float]] = {v: [] for v in _VARIANTS}
    functions = {v: built[v][0].capabilities["echo_sync"].function for v in _VARIANTS}
    functions["bare"] = _echo_sync
    scope = _scope(_CAPABILITY_PATH)
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        for name in direct:
            _per_call(functions[name], CALLS // 10)
        for name in _VARIANTS:
            runner.run(_serve(built[name][0].asgi_app, scope, REQUESTS // 10))
        for round_, name in interleaved(("bare", *_VARIANTS), ROUNDS):
            if name == "bare":
                progress(f"tracing, in-process: round {round_ + 1} of {ROUNDS}")
            gc.collect()
            direct[name].append(_per_call(functions[name], CALLS))
            if name != "bare":
                app = built[name][0].asgi_app
                http[name].append(runner.run(_serve(app, scope, REQUESTS)))
    for _, provider in built.values():
        if provider is not None:
            provider.shutdown()
    return {"direct": direct, "http": http}


@contextmanager
def _collector() -> Iterator[str]:
    """A local OTLP/HTTP endpoint that answers 200 and drops what it gets."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _loopback() -> dict[str, list[float]] | None:
    """Requests per second of the capability route, one served agent per variant."""
    if shutil.which("wrk") is None:
        return None
    rates: dict[str, list[float]] = {v: [] for v in _VARIANTS}
    with _collector() as endpoint, tempfile.TemporaryDirectory() as directory:
        script = Path(directory) / "post.lua"
        script.write_text(_SCRIPT, encoding="utf-8")
        servers: dict[str, Served] = {}
        try:
            for name in _VARIANTS:
                env = server_env()
                if name in _RATIOS:
                    env.update(
                        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
                        OTEL_TRACES_SAMPLER="traceidratio",
                        OTEL_TRACES_SAMPLER_ARG=str(_RATIOS[name]),
                    )
                port = free_port()
                command = runtime_command("benchmarks.served:runtime", port, free_port())
                servers[name] = Served(name, command, port, env)
            for server in servers.values():
                server.wait_until_answers("POST", _CAPABILITY_PATH, PAYLOAD_BYTES)
                _wrk(script, server.port, _CAPABILITY_PATH, 1)
            for round_, name in interleaved(_VARIANTS, HTTP_ROUNDS):
                if name == _VARIANTS[round_ % len(_VARIANTS)]:
                    progress(f"tracing, loopback HTTP: round {round_ + 1} of {HTTP_ROUNDS}")
                load = _wrk(script, servers[name].port, _CAPABILITY_PATH, HTTP_SECONDS)
                if load.errors:
                    raise RuntimeError(f"{name}: {load.errors} failed requests")
                rates[name].append(load.rate)
        finally:
            for server in servers.values():
                server.stop()
    return rates


def run() -> Section:
    """Time tracing off, on with sampling 0 and on with sampling 1, interleaved."""
    load_before = os.getloadavg()[0]
    measured = _in_process()
    rates = _loopback()
    load = max(load_before, os.getloadavg()[0])
    rows, targets = _rows(measured["direct"], measured["http"], rates)
    return _section(rows, targets, load)


def _rows(
    direct: dict[str, list[float]],
    http: dict[str, list[float]],
    rates: dict[str, list[float]] | None,
) -> tuple[list[list[str]], list[list[str]]]:
    """A row per variant (direct, in-process, loopback), and the target tracing off meets."""
    rows, targets = [], []
    for name in _VARIANTS:
        added_us = paired(direct[name], direct["bare"]) / 1000
        vs_off = paired(http[name], http[_OFF])
        rate = "—" if rates is None else number(median(rates[name]))
        ratio = "—"
        if rates is not None:
            ratio = f"{median(r / o for r, o in zip(rates[name], rates[_OFF], strict=True)):.2f}"
        rows.append(
            [
                name,
                number(median(direct[name]), 0),
                number(added_us, 2),
                number(median(http[name]), 1),
                "—" if name == _OFF else f"+{vs_off:.1f}",
                rate,
                ratio,
            ]
        )
        if name == _OFF:
            targets.append(
                [
                    f"tracing off, direct sync call: ≤ {TARGET_ADDED_US:g} µs added",
                    f"{added_us:.2f} µs",
                    verdict(added_us <= TARGET_ADDED_US),
                ]
            )
    return rows, targets


def _section(rows: list[list[str]], targets: list[list[str]], load: float) -> Section:
    """The section: the three runtimes, how each was timed, the table."""
    return Section(
        title="5. Tracing: off, on with sampling 0, on with sampling 1",
        intro=(
            "The same echo capability in three runtimes: tracing off (no provider, no "
            "`OTEL_*`), and on through an SDK tracer provider with a batch span processor "
            "whose exporter drops the batches (sampler `traceidratio` 0: spans are made "
            "but not recorded; 1: every span is recorded and exported). Direct: a sync "
            f"capability called from Python, {CALLS:,} calls per variant per round, "
            f"against the bare function; in-process: `POST {_CAPABILITY_PATH}` called "
            f"on the ASGI app as in section 2a, {REQUESTS:,} requests per round (server "
            f"span + capability span); {ROUNDS} rounds interleaved, medians. Loopback: "
            "each runtime served by `greenlang-runtime run` with "
            "`OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a local receiver that drops what "
            f"it gets, loaded by wrk as in section 2b, {HTTP_SECONDS} s per round, "
            f"{HTTP_ROUNDS} rounds interleaved; the ratio is the median per-round ratio "
            "to tracing off."
        ),
        tables=[
            table(
                [
                    "tracing",
                    "direct sync (ns/call)",
                    "added vs bare (µs/call)",
                    "in-process (µs/request)",
                    "added vs off (µs/request)",
                    "loopback req/s (median)",
                    "× off",
                ],
                rows,
            )
        ],
        notes=[
            f"Load average (1 min) around the run: up to {load:.1f} on {os.cpu_count()} CPUs. "
            "Other work on the machine slows every row alike: compare the rows of this "
            "table with each other, not with other sections' absolute figures."
        ],
        targets=targets,
    )
