"""Benchmark 4: what LLM accounting adds to a call, with the real clients and the fake server."""

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
    interleaved,
    median,
    number,
    paired,
    pin,
    progress,
    server_env,
    table,
    verdict,
)

__all__ = ["run"]

CALLS = 400
STREAMS = 150
ROUNDS = 9
IN_PROCESS_CALLS = 50_000
TARGET_ADDED_US = 20.0
# "No measurable difference" in time to first chunk: within this many µs.
TARGET_FIRST_CHUNK_US = 50.0

_ASK: dict[str, Any] = {"max_tokens": 64, "messages": [{"role": "user", "content": "Hello"}]}
_CHAT: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}
_SERVE = (
    "import time\n"
    "from greenlang_runtime.testing import FakeLLMServer\n"
    "FakeLLMServer(port={port}).start()\n"
    "time.sleep(10**9)\n"
)


def _per_call_us(call: Callable[[], object], calls: int) -> float:
    """Median µs of one ``call()`` over ``calls`` calls (robust to the odd slow one)."""
    times = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        started = clock()
        call()
        times.append(clock() - started)
    return median(times) / 1000


def _first_chunk_us(open_stream: Callable[[], Any], is_text: Callable[[Any], bool]) -> float:
    """Median µs from opening a stream to its first text chunk, the stream then read out."""
    times = []
    clock = time.perf_counter_ns
    for _ in range(STREAMS):
        started = clock()
        stream = open_stream()
        first = None
        for chunk in stream:
            if first is None and is_text(chunk):
                first = clock() - started
        times.append(first or 0)
    return median(times) / 1000


def _in_process_us() -> float:
    """µs of the accounting work alone per call: start, read a parsed Message, record."""
    import anthropic

    from greenlang_runtime import AgentRuntime, _fake_wire
    from greenlang_runtime.llm._instrument import _provider_module
    from greenlang_runtime.llm._streams import follow

    runtime = AgentRuntime(agent_id="bench-llm", environ={})
    runtime.llm.instrument(anthropic.Anthropic(api_key="bench"))
    recorder = runtime.llm._recorder
    module = _provider_module(anthropic.Anthropic(api_key="bench"))
    route, types = module.ROUTES["/v1/messages"], module.stream_types()
    body = _fake_wire.anthropic_message("claude-sonnet-4-5", "Hi", _fake_wire.FakeUsage())
    message = anthropic.types.Message.model_validate(body)
    started = time.perf_counter_ns()
    for _ in range(IN_PROCESS_CALLS):
        follow(message, recorder.start("anthropic", route, "claude-sonnet-4-5"), False, types)
    return (time.perf_counter_ns() - started) / IN_PROCESS_CALLS / 1000


def run() -> Section:
    """Plain and instrumented clients side by side, interleaved, against one fake server."""
    import anthropic
    import openai

    from greenlang_runtime import AgentRuntime

    port = free_port()
    code = _SERVE.format(port=port)
    server = Served("fake LLM server", [sys.executable, "-c", code], port, server_env())
    pin(0, LOAD_CPU)
    try:
        _wait(port)
        runtime = AgentRuntime(agent_id="bench-llm", environ={})
        url = f"http://127.0.0.1:{port}"
        plain_a = anthropic.Anthropic(base_url=url, api_key="bench", max_retries=0)
        counted_a = runtime.instrument(
            anthropic.Anthropic(base_url=url, api_key="bench", max_retries=0)
        )
        plain_o = openai.OpenAI(base_url=url + "/v1", api_key="bench", max_retries=0)
        counted_o = runtime.instrument(
            openai.OpenAI(base_url=url + "/v1", api_key="bench", max_retries=0)
        )
        calls: dict[str, Callable[[], float]] = {
            "anthropic, plain": lambda: _per_call_us(
                lambda: plain_a.messages.create(model="claude-sonnet-4-5", **_ASK), CALLS
            ),
            "anthropic, instrumented": lambda: _per_call_us(
                lambda: counted_a.messages.create(model="claude-sonnet-4-5", **_ASK), CALLS
            ),
            "openai, plain": lambda: _per_call_us(
                lambda: plain_o.chat.completions.create(**_CHAT), CALLS
            ),
            "openai, instrumented": lambda: _per_call_us(
                lambda: counted_o.chat.completions.create(**_CHAT), CALLS
            ),
            "anthropic stream, plain": lambda: _first_chunk_us(
                lambda: plain_a.messages.create(model="claude-sonnet-4-5", stream=True, **_ASK),
                lambda e: e.type == "content_block_delta",
            ),
            "anthropic stream, instrumented": lambda: _first_chunk_us(
                lambda: counted_a.messages.create(model="claude-sonnet-4-5", stream=True, **_ASK),
                lambda e: e.type == "content_block_delta",
            ),
            "openai stream, plain": lambda: _first_chunk_us(
                lambda: plain_o.chat.completions.create(stream=True, **_CHAT),
                lambda c: bool(c.choices),
            ),
            "openai stream, instrumented": lambda: _first_chunk_us(
                lambda: counted_o.chat.completions.create(stream=True, **_CHAT),
                lambda c: bool(c.choices),
            ),
        }
        variants = list(calls)
        results: dict[str, list[float]] = {variant: [] for variant in variants}
        for variant in variants:  # warm up connections and caches
            calls[variant]()
        for round_, variant in interleaved(variants, ROUNDS):
            if variant == variants[round_ % len(variants)]:
                progress(f"llm: round {round_ + 1} of {ROUNDS}")
            gc.collect()
            results[variant].append(calls[variant]())
        in_process = _in_process_us()
        for client in (plain_a, counted_a, plain_o, counted_o):
            client.close()
    finally:
        server.stop()
    return _section(results, in_process)


def _wait(port: int) -> None:
    """Return once the fake server answers a Messages call."""
    import anthropic

    deadline = time.monotonic() + 30
    client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="b", max_retries=0)
    with client:
        while True:
            try:
                client.messages.create(model="claude-sonnet-4-5", **_ASK)
                return
            except anthropic.APIConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def _section(results: dict[str, list[float]], in_process: float) -> Section:
    rows, targets = [], []
    for kind in ("anthropic", "openai"):
        plain, counted = results[f"{kind}, plain"], results[f"{kind}, instrumented"]
        added = paired(counted, plain)
        rows.append(
            [
                f"{kind} create",
                number(median(plain), 1),
                number(median(counted), 1),
                f"{added:+.1f}",
                verdict(added <= TARGET_ADDED_US),
            ]
        )
        targets.append(
            [
                f"LLM call ({kind}), instrumented: ≤ {TARGET_ADDED_US:g} µs added",
                f"{added:+.1f} µs",
                verdict(added <= TARGET_ADDED_US),
            ]
        )
    first_rows = []
    for kind in ("anthropic", "openai"):
        plain = results[f"{kind} stream, plain"]
        counted = results[f"{kind} stream, instrumented"]
        added = paired(counted, plain)
        met = abs(added) <= TARGET_FIRST_CHUNK_US
        first_rows.append(
            [
                f"{kind} stream",
                number(median(plain), 1),
                number(median(counted), 1),
                f"{added:+.1f}",
                verdict(met),
            ]
        )
        targets.append(
            [
                f"time to first chunk ({kind}): within ±{TARGET_FIRST_CHUNK_US:g} µs",
                f"{added:+.1f} µs",
                verdict(met),
            ]
        )
    headers = ["call", "plain (µs)", "instrumented (µs)", "added (µs)"]
    return Section(
        title="4. LLM accounting: overhead per call and time to first chunk",
        intro=(
            "The official clients (anthropic, openai; sync) call the fake LLM server of "
            "`greenlang_runtime.testing`, served by uvicorn in its own process (pinned to "
            "CPU 0, the clients to CPU 1): `messages.create` / `chat.completions.create` "
            "answered in JSON, and the same calls with `stream=True` (one chunk per word). "
            "Each client twice: plain, and passed through `runtime.instrument()` (tokens, "
            "cost, outcome, duration and, for streams, time to first token recorded; no "
            f"tracer provider configured). {CALLS} calls (or {STREAMS} streams) per variant "
            f"per round, {ROUNDS} rounds interleaved; per round the median call, then the "
            "median over rounds of the per-round differences (instrumented minus plain)."
        ),
        tables=[
            table([*headers, f"target ≤ {TARGET_ADDED_US:g} µs"], rows),
            table(
                [
                    "stream",
                    "plain: first chunk (µs)",
                    "instrumented: first chunk (µs)",
                    "added (µs)",
                    f"target ±{TARGET_FIRST_CHUNK_US:g} µs",
                ],
                first_rows,
            ),
        ],
        notes=[
            "The accounting work alone, measured in-process without HTTP (start a call, read "
            "a parsed `Message`'s usage, price it, count it): "
            f"{number(in_process, 2)} µs per call over {IN_PROCESS_CALLS:,} calls. A "
            "loopback call costs the clients about a millisecond, so the end-to-end "
            "differences above sit within a few µs of noise either way."
        ],
        targets=targets,
    )
