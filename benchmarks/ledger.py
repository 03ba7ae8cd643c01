"""Benchmark 6: the LLM usage ledger: its cost on the call path, rows/s, the flush at SIGTERM.

- Call path: a call's end with the ledger on (it notes the call's capability
  and queues one more item) against off, the accounting alone as in
  benchmark 4, interleaved rounds; and the counting that makes each row.
- Rows per second one writer puts into a local PostgreSQL (one statement per
  5,000-row batch).
- Time to flush 10,000 pending rows at SIGTERM: a served agent with 10,000
  rows pending (flush interval 60 s, so none was written before) against the
  same agent with none, SIGTERM to exit, paired by round.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.request
from typing import Any

from benchmarks._common import (
    Section,
    Served,
    free_port,
    median,
    number,
    progress,
    runtime_command,
    server_env,
    table,
    verdict,
)

__all__ = ["run"]

ROUNDS = 7
ALONE_CALLS = 1000
WRITE_ROWS = 50_000
WRITE_ROUNDS = 3
FLUSH_ROWS = 10_000
FLUSH_ROUNDS = 3
TARGET_ADDED_US = 2.0
_SONNET = "claude-sonnet-4-5"


def _call_path_us() -> tuple[list[float], list[float], list[float], list[float]]:
    """µs per call, per round: call path off, on; counting off, on (1,000 calls each)."""
    import anthropic

    from greenlang_runtime import AgentRuntime
    from greenlang_runtime.config import SecretUrl, Settings
    from greenlang_runtime.ledger._context import current_capability
    from greenlang_runtime.llm import anthropic as provider
    from greenlang_runtime.llm._streams import follow
    from greenlang_runtime.testing import FakeUsage
    from greenlang_runtime.testing._fake_wire import anthropic_message

    # Nothing connects: the writer only runs in a served agent's lifespan.
    url = SecretUrl("postgresql://bench:bench@127.0.0.1:1/bench")
    off = AgentRuntime(agent_id="bench-ledger", environ={})
    on = AgentRuntime(agent_id="bench-ledger", environ={}, settings=Settings(llm_ledger_url=url))
    recorders = []
    for runtime in (off, on):
        runtime.instrument(anthropic.Anthropic(api_key="bench"))
        recorders.append(runtime.llm._calls)
    route, types = provider.ROUTES["/v1/messages"], provider.stream_types()
    message = anthropic.types.Message.model_validate(anthropic_message(_SONNET, "Hi", FakeUsage()))
    # As inside a capability call.
    current_capability.set("calculate")
    results: tuple[list[float], list[float], list[float], list[float]] = ([], [], [], [])
    for round_ in range(ROUNDS * 10):
        for side in (0, 1) if round_ % 2 else (1, 0):
            recorder = recorders[side]
            started = time.perf_counter_ns()
            for _ in range(ALONE_CALLS):  # fewer than the queue's limit: nothing counted yet
                follow(message, recorder.start("anthropic", route, _SONNET), False, types)
            queued = time.perf_counter_ns()
            recorder.drain()
            counted = time.perf_counter_ns()
            results[side].append((queued - started) / ALONE_CALLS / 1000)
            results[2 + side].append((counted - queued) / ALONE_CALLS / 1000)
        ledger = on.ledger
        assert ledger is not None
        # Keep the buffer from filling: these rows are never written.
        ledger.buffer.take(10**9)
        ledger.buffer.written()
    return results


def _rows(count: int) -> list[Any]:
    import datetime
    import uuid
    from decimal import Decimal

    from greenlang_runtime.ledger._row import LedgerRow, new_call_id

    now = time.time()
    at = datetime.datetime.fromtimestamp(now, datetime.UTC)
    cost = Decimal("0.00525")
    rows: list[Any] = []
    for _ in range(count):
        call_id: uuid.UUID = new_call_id(now)
        rows.append(
            LedgerRow(
                call_id,
                at,
                at,
                "bench-ledger",
                "1.0.0",
                "tenant",
                "production",
                "calculate",
                None,
                "openai",
                "gpt-4o",
                "success",
                800,
                300,
                200,
                0,
                cost,
                True,
            )
        )
    return rows


def _rows_per_second(url: str) -> list[float]:
    """Rows per second of one writer flushing ``WRITE_ROWS`` rows, per round."""
    from greenlang_runtime.ledger._buffer import LedgerBuffer
    from greenlang_runtime.ledger._writer import LedgerWriter

    rates = []
    for round_ in range(WRITE_ROUNDS):
        progress(f"ledger: writing {WRITE_ROWS} rows, round {round_ + 1} of {WRITE_ROUNDS}")
        buffer: LedgerBuffer[Any] = LedgerBuffer(WRITE_ROWS)
        for row in _rows(WRITE_ROWS):
            buffer.offer(row)
        writer = LedgerWriter(
            url, "bench_rows", buffer, lambda: None, flush_seconds=60, ping_seconds=60
        )

        async def flush(writer: LedgerWriter = writer) -> float:
            await writer._connect()  # the table exists before the clock starts
            started = time.perf_counter()
            await writer.flush()
            seconds = time.perf_counter() - started
            await writer.stop()
            return seconds

        rates.append(WRITE_ROWS / asyncio.run(flush()))
    return rates


def _sigterm_seconds(url: str, rows: int) -> float:
    """Seconds from SIGTERM to exit of a served agent with ``rows`` rows pending."""
    port, metrics_port = free_port(), free_port()
    env = server_env(
        GL_LLM_LEDGER_URL=url,
        GL_LLM_LEDGER_TABLE="bench_flush",
        GL_LLM_LEDGER_FLUSH_SECONDS="60",
    )
    command = runtime_command("benchmarks.ledger_agent:runtime", port, metrics_port)
    agent = Served("ledger agent", command, port, env)
    try:
        agent.wait_until_answers("GET", "/health/ready", timeout=120)
        # The writer's first connection (and the table) are there before the count.
        time.sleep(1.0)
        body = json.dumps({"rows": rows}).encode()
        fill = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/capabilities/fill", data=body, method="POST"
        )
        fill.add_header("content-type", "application/json")
        with urllib.request.urlopen(fill, timeout=120) as answer:  # noqa: S310
            pending = json.loads(answer.read())["pending"]
        if pending != rows:
            raise RuntimeError(f"{pending} rows pending, not {rows}")
        started = time.perf_counter()
        agent.process.send_signal(signal.SIGTERM)
        status = agent.process.wait(timeout=60)
        seconds = time.perf_counter() - started
        if status != 0:
            raise RuntimeError(f"the agent exited {status}:\n{agent.log()}")
        return seconds
    finally:
        agent.stop()


def _count(url: str, table_name: str) -> int:
    """Rows in ``table_name``."""
    import asyncpg

    async def count() -> int:
        connection = await asyncpg.connect(url)
        try:
            value: int = await connection.fetchval(f"SELECT count(*) FROM {table_name}")  # noqa: S608
            return value
        finally:
            await connection.close()

    return asyncio.run(count())


def run() -> Section:
    """The call path in process, then a private PostgreSQL for the writes and the SIGTERM flush."""
    # The tests' own server: a private PostgreSQL from the machine's binaries.
    from greenlang_runtime.testing import PostgresServer, postgres_bin

    progress("ledger: call path")
    path_off, path_on, count_off, count_on = _call_path_us()
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("the ledger benchmark needs the PostgreSQL server binaries")
    server = PostgresServer(bindir)
    server.start()
    try:
        rates = _rows_per_second(server.url)
        flushes: list[tuple[float, float]] = []
        for round_ in range(FLUSH_ROUNDS):
            progress(f"ledger: SIGTERM with {FLUSH_ROWS} rows pending, round {round_ + 1}")
            empty = _sigterm_seconds(server.url, 0)
            full = _sigterm_seconds(server.url, FLUSH_ROWS)
            flushes.append((empty, full))
            stored = _count(server.url, "bench_flush")
            if stored != FLUSH_ROWS * (round_ + 1):
                raise RuntimeError(f"{stored} rows in the table after round {round_ + 1}")
    finally:
        server.remove()
    return _section(path_off, path_on, count_off, count_on, rates, flushes)


def _section(
    path_off: list[float],
    path_on: list[float],
    count_off: list[float],
    count_on: list[float],
    rates: list[float],
    flushes: list[tuple[float, float]],
) -> Section:
    added = median(on - off for off, on in zip(path_off, path_on, strict=True))
    counted = median(on - off for off, on in zip(count_off, count_on, strict=True))
    met = added <= TARGET_ADDED_US
    empty = median(f[0] for f in flushes)
    full = median(f[1] for f in flushes)
    flush = median(f[1] - f[0] for f in flushes)
    rate = median(rates)
    call_table = table(
        ["per call (µs)", "ledger off", "ledger on", "added (paired)", "target"],
        [
            [
                "call path (a call's end)",
                number(median(path_off), 2),
                number(median(path_on), 2),
                f"{added:+.2f}",
                f"≤ {TARGET_ADDED_US:g} µs: {verdict(met)}",
            ],
            [
                "counting (scrape, flush or 1,024 calls; off the call path)",
                number(median(count_off), 2),
                number(median(count_on), 2),
                f"{counted:+.2f}",
                "",
            ],
        ],
    )
    write_table = table(
        ["writing", "figure"],
        [
            [f"rows per second, one writer ({WRITE_ROWS:,} rows, 5,000 per batch)", number(rate)],
            ["SIGTERM to exit, 0 rows pending (s)", number(empty, 2)],
            [f"SIGTERM to exit, {FLUSH_ROWS:,} rows pending (s)", number(full, 2)],
            [f"time to flush {FLUSH_ROWS:,} pending rows at SIGTERM (paired, s)", number(flush, 2)],
        ],
    )
    return Section(
        title="6. LLM usage ledger: call path, rows per second, flush at SIGTERM",
        intro=(
            "Call path: the accounting alone, as in benchmark 4 (a parsed Messages "
            f"response through the instrumentation, {ALONE_CALLS:,} calls per sample, no "
            "tracer provider), with the ledger off and on, in turn, "
            f"{ROUNDS * 10} samples each; the added time is the median of the paired "
            "differences. Counting prices each call and, with the ledger, makes its row "
            "(a UUID version 7, two timestamps, the cost as a decimal); it runs off the "
            "call path. Writing: a private PostgreSQL 15 on the same machine "
            "(`fsync=off`, as in the tests), one writer flushing "
            f"{WRITE_ROWS:,} rows, {WRITE_ROUNDS} rounds. SIGTERM: `greenlang-runtime "
            "run` serving `benchmarks/ledger_agent.py`, which hands the ledger "
            f"{FLUSH_ROWS:,} rows as counting {FLUSH_ROWS:,} calls would; SIGTERM to "
            "exit with and without them (no pre-stop delay), paired by round, "
            f"{FLUSH_ROUNDS} rounds; every row is in the table after each exit."
        ),
        tables=[call_table, write_table],
        targets=[
            [
                f"LLM ledger on the call path: ≤ {TARGET_ADDED_US:g} µs added",
                f"{added:+.2f} µs",
                verdict(met),
            ],
            [
                f"LLM ledger: {FLUSH_ROWS:,} pending rows written at SIGTERM within the hooks' 3 s",
                f"{flush:.2f} s",
                verdict(flush <= 3.0),
            ],
        ],
    )
