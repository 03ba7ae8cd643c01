"""Benchmark 4: what LLM accounting adds to a call, with the real clients and the fake server.

A loopback call costs the clients milliseconds and varies by more than the
microseconds measured here, so plain and instrumented calls alternate one
by one and each pair's difference is taken: whatever slows the machine
down slows both calls of a pair.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks._common import (
    LOAD_CPU,
    Section,
    Served,
    free_port,
    median,
    number,
    pin,
    progress,
    server_env,
    table,
    verdict,
)

__all__ = ["run"]

PAIRS = 300
STREAM_PAIRS = 100
ROUNDS = 7
IN_PROCESS_PAIRS = 3000
ALONE_CALLS = 20_000
TARGET_ADDED_US = 20.0
# "No measurable difference" in time to first chunk: within this many µs.
TARGET_FIRST_CHUNK_US = 50.0

_SONNET = "claude-sonnet-4-5"
_ASK: dict[str, Any] = {"max_tokens": 64, "messages": [{"role": "user", "content": "Hello"}]}
_CHAT: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}
_SERVE = (
    "import time\n"
    "from greenlang_runtime.testing import FakeLLMServer\n"
    "FakeLLMServer(port={port}).start()\n"
    "time.sleep(10**9)\n"
)

Measure = Callable[[Any], int]


def _call_ns(call: Callable[[Any], object]) -> Measure:
    """Nanoseconds of one ``call(client)``."""

    def measure(client: Any) -> int:
        started = time.perf_counter_ns()
        call(client)
        return time.perf_counter_ns() - started

    return measure


def _first_chunk_ns(open_stream: Callable[[Any], Any], is_text: Callable[[Any], bool]) -> Measure:
    """Nanoseconds from opening a stream to its first text chunk (the rest then read out)."""

    def measure(client: Any) -> int:
        started = time.perf_counter_ns()
        first = 0
        for chunk in open_stream(client):
            if not first and is_text(chunk):
                first = time.perf_counter_ns() - started
        return first

    return measure


def _paired_us(
    measure: Measure, plain: Any, counted: Any, pairs: int
) -> tuple[float, float, float]:
    """Median plain µs, median instrumented µs, median of the per-pair differences (µs)."""
    plain_ns, counted_ns, added_ns = [], [], []
    for number_ in range(pairs):
        # Alternate which goes first, so neither always meets a warm connection.
        if number_ % 2:
            counted_one, plain_one = measure(counted), measure(plain)
        else:
            plain_one, counted_one = measure(plain), measure(counted)
        plain_ns.append(plain_one)
        counted_ns.append(counted_one)
        added_ns.append(counted_one - plain_one)
    return median(plain_ns) / 1000, median(counted_ns) / 1000, median(added_ns) / 1000


_MEASURES: dict[str, tuple[Measure, int]] = {
    "anthropic messages.create": (
        _call_ns(lambda c: c.messages.create(model=_SONNET, **_ASK)),
        PAIRS,
    ),
    "openai chat.completions.create": (
        _call_ns(lambda c: c.chat.completions.create(**_CHAT)),
        PAIRS,
    ),
    "anthropic stream": (
        _first_chunk_ns(
            lambda c: c.messages.create(model=_SONNET, stream=True, **_ASK),
            lambda e: e.type == "content_block_delta",
        ),
        STREAM_PAIRS,
    ),
    "openai chat stream": (
        _first_chunk_ns(
            lambda c: c.chat.completions.create(stream=True, **_CHAT), lambda c: bool(c.choices)
        ),
        STREAM_PAIRS,
    ),
}


def _clients(url: str, transport: Any = None) -> dict[str, tuple[Any, Any]]:
    """Per provider: a plain client and an instrumented one, both sending to ``url``."""
    import anthropic
    import httpx2
    import openai

    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime(agent_id="bench-llm", environ={})

    def http() -> Any:
        return None if transport is None else httpx2.Client(transport=transport)

    made: dict[str, tuple[Any, Any]] = {}
    for name, make, base in (
        ("anthropic", anthropic.Anthropic, url),
        ("openai", openai.OpenAI, url + "/v1"),
    ):
        plain = make(base_url=base, api_key="bench", max_retries=0, http_client=http())
        counted = make(base_url=base, api_key="bench", max_retries=0, http_client=http())
        made[name] = (plain, runtime.instrument(counted))
    return made


def _in_process_transport() -> Any:
    """An httpx2 transport answering like the fake server, in this process, without sockets."""
    import httpx2

    from greenlang_runtime import _fake_wire as wire

    usage = wire.FakeUsage()
    bodies = {
        "/v1/messages": wire.anthropic_message(_SONNET, "Hi", usage),
        "/v1/chat/completions": wire.chat_completion("gpt-4o", "Hi", usage),
    }
    return httpx2.MockTransport(lambda request: httpx2.Response(200, json=bodies[request.url.path]))


def _accounting_alone_us() -> float:
    """µs of the accounting work alone: start a call, read a parsed Message, price and count it."""
    import anthropic

    from greenlang_runtime import AgentRuntime
    from greenlang_runtime import _fake_wire as wire
    from greenlang_runtime.llm import anthropic as provider
    from greenlang_runtime.llm._streams import follow

    runtime = AgentRuntime(agent_id="bench-llm", environ={})
    runtime.instrument(anthropic.Anthropic(api_key="bench"))
    recorder = runtime.llm._recorder
    route, types = provider.ROUTES["/v1/messages"], provider.stream_types()
    body = wire.anthropic_message(_SONNET, "Hi", wire.FakeUsage())
    message = anthropic.types.Message.model_validate(body)
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter_ns()
        for _ in range(ALONE_CALLS):
            follow(message, recorder.start("anthropic", route, _SONNET), False, types)
        timings.append((time.perf_counter_ns() - started) / ALONE_CALLS / 1000)
    return median(timings)


def run() -> Section:
    """Plain and instrumented clients call by call, against one fake server and in-process."""
    port = free_port()
    server = Served(
        "fake LLM server", [sys.executable, "-c", _SERVE.format(port=port)], port, server_env()
    )
    pin(0, LOAD_CPU)
    rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in _MEASURES}
    in_process: dict[str, list[tuple[float, float, float]]] = {"anthropic": [], "openai": []}
    try:
        _wait(port)
        clients = _clients(f"http://127.0.0.1:{port}")
        local = _clients("http://fake.invalid", _in_process_transport())
        for name, (measure, _) in _MEASURES.items():  # warm up connections and caches
            _paired_us(measure, *clients[name.split()[0]], 20)
        for round_ in range(ROUNDS):
            progress(f"llm: round {round_ + 1} of {ROUNDS}")
            for name, (measure, pairs) in _MEASURES.items():
                gc.collect()
                rows[name].append(_paired_us(measure, *clients[name.split()[0]], pairs))
            for provider in in_process:
                measure = _MEASURES[next(n for n in _MEASURES if n.startswith(provider))][0]
                gc.collect()
                in_process[provider].append(_paired_us(measure, *local[provider], IN_PROCESS_PAIRS))
        for pair in (*clients.values(), *local.values()):
            for client in pair:
                client.close()
    finally:
        server.stop()
    return _section(rows, in_process, _accounting_alone_us())


def _wait(port: int) -> None:
    """Return once the fake server answers a Messages call."""
    import anthropic

    deadline = time.monotonic() + 30
    client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="b", max_retries=0)
    with client:
        while True:
            try:
                client.messages.create(model=_SONNET, **_ASK)
                return
            except anthropic.APIConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def _summary(results: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Medians over rounds of plain, instrumented and added µs."""
    return tuple(median(r[i] for r in results) for i in range(3))  # type: ignore[return-value]


def _section(
    rows: dict[str, list[tuple[float, float, float]]],
    in_process: dict[str, list[tuple[float, float, float]]],
    alone: float,
) -> Section:
    table_rows, targets = [], []
    for name, results in rows.items():
        plain, counted, added = _summary(results)
        stream = "stream" in name
        limit = TARGET_FIRST_CHUNK_US if stream else TARGET_ADDED_US
        met = abs(added) <= limit if stream else added <= limit
        what = "time to first chunk" if stream else "per call"
        target = f"±{limit:g} µs" if stream else f"≤ {limit:g} µs added"
        table_rows.append(
            [
                name,
                what,
                number(plain, 0),
                number(counted, 0),
                f"{added:+.1f}",
                target,
                verdict(met),
            ]
        )
        targets.append([f"LLM {name}, {what}: {target}", f"{added:+.1f} µs", verdict(met)])
    local_rows = []
    for provider, results in in_process.items():
        plain, counted, added = _summary(results)
        local_rows.append([provider, number(plain, 1), number(counted, 1), f"{added:+.2f}"])
    return Section(
        title="4. LLM accounting: overhead per call and time to first chunk",
        intro=(
            "The official clients (anthropic, openai; sync) call the fake LLM server of "
            "`greenlang_runtime.testing`, served by uvicorn in its own process (pinned to "
            "CPU 0, the clients to CPU 1): `messages.create` / `chat.completions.create` "
            "answered in JSON, and the same calls with `stream=True` (one chunk per word). "
            "Each client twice: plain, and passed through `runtime.instrument()` (tokens, "
            "cost, outcome, duration and, for streams, time to first token recorded; no "
            "tracer provider configured). The two are called alternately, one call each "
            f"in turn, {PAIRS} pairs (streams: {STREAM_PAIRS}) per round, {ROUNDS} rounds; "
            "*added* is the median over rounds of the median per-pair difference "
            "(instrumented minus plain), the other columns medians of the calls."
        ),
        tables=[
            table(
                [
                    "call",
                    "measured",
                    "plain (µs)",
                    "instrumented (µs)",
                    "added (µs)",
                    "target",
                    "result",
                ],
                table_rows,
            ),
            "The same calls without a network: each client's HTTP transport is an "
            "`httpx2.MockTransport` answering the fake server's JSON in-process, so the "
            "clients' own work (building the request, parsing the reply) is all that is "
            f"left next to the accounting; {IN_PROCESS_PAIRS:,} pairs per round.",
            table(["client", "plain (µs)", "instrumented (µs)", "added (µs)"], local_rows),
        ],
        notes=[
            "The accounting work alone, without a client (start a call, read a parsed "
            "`Message`'s usage, price it, count it), in a tight loop: "
            f"{number(alone, 2)} µs per call (median of {ROUNDS} rounds of "
            f"{ALONE_CALLS:,}).",
            "Over loopback a call costs the clients milliseconds on this shared machine, and "
            "calls vary by more than the accounting costs, so the loopback *added* column "
            "is within noise of zero either way; the in-process table isolates the cost.",
        ],
        targets=targets,
    )
