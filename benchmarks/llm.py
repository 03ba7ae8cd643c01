"""Benchmark 4: what LLM accounting adds to a call, with the real clients and the fake server.

A loopback call costs the clients milliseconds here and varies, from call to
call, by far more than the accounting costs. So the clients used are
subclasses whose ``request()`` (the one method every call goes through, and
the one the instrumentation wraps) counts its own time: subtracting it from
the whole call leaves the time spent outside it (the client's method and,
when instrumented, the accounting), which no network jitter reaches.
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
from greenlang_runtime.llm._calls import DRAIN_AT

__all__ = ["run"]

PAIRS = 300
STREAM_PAIRS = 150
ROUNDS = 7
ALONE_CALLS = 1000
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
_CALLS: dict[str, Callable[[Any], Any]] = {
    "anthropic": lambda c: c.messages.create(model=_SONNET, **_ASK),
    "openai": lambda c: c.chat.completions.create(**_CHAT),
}
_STREAMS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], bool]]] = {
    "anthropic": (
        lambda c: c.messages.create(model=_SONNET, stream=True, **_ASK),
        lambda event: event.type == "content_block_delta",
    ),
    "openai": (
        lambda c: c.chat.completions.create(stream=True, **_CHAT),
        lambda chunk: bool(chunk.choices),
    ),
}


def _timed(cls: type) -> Any:
    """A subclass of client class ``cls`` whose ``request()`` adds its time to ``inner_ns``."""

    class Timed(cls):  # type: ignore[misc]
        inner_ns = 0

        def request(self, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter_ns()
            try:
                return super().request(*args, **kwargs)
            finally:
                self.inner_ns += time.perf_counter_ns() - started

    return Timed


def _clients(url: str) -> dict[str, tuple[Any, Any]]:
    """Per provider: a plain client and an instrumented one of the fake server at ``url``."""
    import anthropic
    import openai

    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime(agent_id="bench-llm", environ={})
    made = {}
    for name, cls, base in (
        ("anthropic", anthropic.Anthropic, url),
        ("openai", openai.OpenAI, url + "/v1"),
    ):
        timed = _timed(cls)
        plain = timed(base_url=base, api_key="bench", max_retries=0)
        made[name] = (
            plain,
            runtime.instrument(timed(base_url=base, api_key="bench", max_retries=0)),
        )
    return made


def _measure(client: Any, call: Callable[[Any], Any], is_text: Any) -> tuple[int, int]:
    """One call: (whole time, or time to the first text chunk; time outside ``request()``)."""
    inner = client.inner_ns
    started = time.perf_counter_ns()
    result = call(client)
    outside = time.perf_counter_ns() - started - (client.inner_ns - inner)
    if is_text is None:
        return time.perf_counter_ns() - started, outside
    first = 0
    for chunk in result:
        if not first and is_text(chunk):
            first = time.perf_counter_ns() - started
    return first, outside


def _round(pair: tuple[Any, Any], call: Callable[[Any], Any], is_text: Any, n: int) -> list[float]:
    """Plain and instrumented called in turn ``n`` times each.

    Returns µs: median plain time, median instrumented time, median of the
    per-pair differences, and the added time outside ``request()``.
    """
    _plain, _counted = pair
    times: tuple[list[int], list[int]] = ([], [])
    outside: tuple[list[int], list[int]] = ([], [])
    for index in range(n):
        # Alternate which goes first, so neither always meets a warm connection.
        for side in (0, 1) if index % 2 else (1, 0):
            whole, out = _measure(pair[side], call, is_text)
            times[side].append(whole)
            outside[side].append(out)
    diffs = [c - p for p, c in zip(*times, strict=True)]
    added = median(outside[1]) - median(outside[0])
    return [median(times[0]) / 1e3, median(times[1]) / 1e3, median(diffs) / 1e3, added / 1e3]


def _per_chunk_ns() -> float:
    """ns the instrumentation adds per stream chunk (Anthropic events, read in a tight loop)."""
    from anthropic.types import RawMessageStreamEvent
    from pydantic import TypeAdapter

    from greenlang_runtime import AgentRuntime
    from greenlang_runtime.llm import anthropic as provider
    from greenlang_runtime.llm._streams import SyncEvents
    from greenlang_runtime.testing import FakeUsage
    from greenlang_runtime.testing._fake_wire import anthropic_events

    adapter: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)
    words = ["word "] * 1000
    raw = b"".join(anthropic_events(_SONNET, words, FakeUsage())).decode()
    data = [line[6:] for line in raw.splitlines() if line.startswith("data: ")]
    events = [adapter.validate_json(item) for item in data if '"ping"' not in item]
    recorder = AgentRuntime(agent_id="bench-llm", environ={}).llm._calls
    route = provider.ROUTES["/v1/messages"]
    plain, counted = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter_ns()
        for _ in iter(events):
            pass
        plain.append(time.perf_counter_ns() - started)
        call = recorder.start("anthropic", route, _SONNET)
        started = time.perf_counter_ns()
        for _ in SyncEvents(iter(events), call):
            pass
        counted.append(time.perf_counter_ns() - started)
    return (median(counted) - median(plain)) / len(events)


def _accounting_alone_us() -> tuple[float, float]:
    """µs per call of the accounting alone: on the call path, and counting it at the scrape.

    The call path starts a call, reads a parsed Message's usage and queues it;
    the scrape prices and counts the queued calls.
    """
    import anthropic

    from greenlang_runtime import AgentRuntime
    from greenlang_runtime.llm import anthropic as provider
    from greenlang_runtime.llm._streams import follow
    from greenlang_runtime.testing import FakeUsage
    from greenlang_runtime.testing._fake_wire import anthropic_message

    runtime = AgentRuntime(agent_id="bench-llm", environ={})
    runtime.instrument(anthropic.Anthropic(api_key="bench"))
    recorder = runtime.llm._calls
    route, types = provider.ROUTES["/v1/messages"], provider.stream_types()
    message = anthropic.types.Message.model_validate(anthropic_message(_SONNET, "Hi", FakeUsage()))
    call_path, scrape = [], []
    for _ in range(ROUNDS * 20):
        started = time.perf_counter_ns()
        for _ in range(ALONE_CALLS):  # fewer than the queue's limit: nothing is counted yet
            follow(message, recorder.start("anthropic", route, _SONNET), False, types)
        queued = time.perf_counter_ns()
        recorder.drain()
        call_path.append((queued - started) / ALONE_CALLS / 1000)
        scrape.append((time.perf_counter_ns() - queued) / ALONE_CALLS / 1000)
    return median(call_path), median(scrape)


def run() -> Section:
    """Plain and instrumented clients in turn against one fake server, then the parts alone."""
    port = free_port()
    command = [sys.executable, "-c", _SERVE.format(port=port)]
    server = Served("fake LLM server", command, port, server_env())
    pin(0, LOAD_CPU)
    calls: dict[str, list[list[float]]] = {name: [] for name in _CALLS}
    streams: dict[str, list[list[float]]] = {name: [] for name in _STREAMS}
    try:
        _wait(port)
        clients = _clients(f"http://127.0.0.1:{port}")
        for name in _CALLS:  # warm up connections and caches
            _round(clients[name], _CALLS[name], None, 20)
            _round(clients[name], *_STREAMS[name], 10)
        for round_ in range(ROUNDS):
            progress(f"llm: round {round_ + 1} of {ROUNDS}")
            for name in _CALLS:
                gc.collect()
                calls[name].append(_round(clients[name], _CALLS[name], None, PAIRS))
                gc.collect()
                streams[name].append(_round(clients[name], *_STREAMS[name], STREAM_PAIRS))
        for pair in clients.values():
            for client in pair:
                client.close()
    finally:
        server.stop()
    return _section(calls, streams, _per_chunk_ns(), _accounting_alone_us())


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


def _medians(rounds: list[list[float]]) -> list[float]:
    """Each column's median over rounds."""
    return [median(r[i] for r in rounds) for i in range(len(rounds[0]))]


# Chunks the caller waits for before the first text: Anthropic's message_start and
# content_block_start, then the delta; OpenAI's first chunk carries the role and text.
_BEFORE_TEXT = {"anthropic": 3, "openai": 1}


def _row(name: str, rounds: list[list[float]], added: float, met: bool) -> list[str]:
    """One table row: plain, instrumented, paired difference, added, verdict."""
    plain, counted, paired_diff, _ = _medians(rounds)
    return [
        name,
        number(plain),
        number(counted),
        f"{paired_diff:+.0f}",
        f"{added:+.1f}",
        verdict(met),
    ]


def _call_rows(calls: dict[str, list[list[float]]], targets: list[list[str]]) -> list[list[str]]:
    """Rows of the calls answered in JSON; their targets appended to ``targets``."""
    rows = []
    for name, rounds in calls.items():
        added = _medians(rounds)[3]
        met = added <= TARGET_ADDED_US
        rows.append(_row(name, rounds, added, met))
        targets.append(
            [f"LLM call ({name}): ≤ {TARGET_ADDED_US:g} µs added", f"{added:+.1f} µs", verdict(met)]
        )
    return rows


def _stream_rows(
    streams: dict[str, list[list[float]]], per_chunk_ns: float, targets: list[list[str]]
) -> list[list[str]]:
    """Rows of the streams (the chunks before the first text included); targets appended."""
    rows = []
    for name, rounds in streams.items():
        added = _medians(rounds)[3] + _BEFORE_TEXT[name] * per_chunk_ns / 1000
        met = added <= TARGET_FIRST_CHUNK_US
        rows.append(_row(name, rounds, added, met))
        targets.append(
            [
                f"LLM stream ({name}), time to first chunk: ≤ {TARGET_FIRST_CHUNK_US:g} µs added",
                f"{added:+.1f} µs",
                verdict(met),
            ]
        )
    return rows


def _section(
    calls: dict[str, list[list[float]]],
    streams: dict[str, list[list[float]]],
    per_chunk_ns: float,
    alone_us: tuple[float, float],
) -> Section:
    targets: list[list[str]] = []
    rows = _call_rows(calls, targets)
    stream_rows = _stream_rows(streams, per_chunk_ns, targets)
    head = ["plain (µs)", "instrumented (µs)", "paired difference (µs)", "added by accounting (µs)"]
    return Section(
        title="4. LLM accounting: overhead per call and time to first chunk",
        intro=(
            "The official clients (anthropic, openai; sync) call the fake LLM server of "
            "`greenlang_runtime.testing`, served by uvicorn in its own process (pinned to "
            "CPU 0, the clients to CPU 1): `messages.create` / `chat.completions.create` "
            "answered in JSON, and the same calls with `stream=True` (one chunk per word, "
            "read to the end). Each client twice: plain, and through `runtime.instrument()` "
            "(tokens, cost, outcome, duration, time to first token; no tracer provider). "
            f"The two are called in turn, {PAIRS} pairs of calls (or {STREAM_PAIRS} of "
            f"streams) per round, {ROUNDS} rounds; figures are medians over rounds of each "
            "round's medians. *Paired difference* is the median difference within pairs, "
            "network and machine noise included. *Added by accounting* takes out the time "
            "each call spent in the client's `request()`, which the instrumentation wraps "
            "(see the module's docstring): what is left is the accounting's own time, for "
            "streams plus its cost per chunk for the chunks up to the first text."
        ),
        tables=[
            table(["call", *head, f"≤ {TARGET_ADDED_US:g} µs"], rows),
            table(
                ["stream: time to first chunk", *head, f"≤ {TARGET_FIRST_CHUNK_US:g} µs"],
                stream_rows,
            ),
        ],
        notes=[
            "The parts alone, in tight loops: a stream chunk passed through the "
            f"instrumentation costs {number(per_chunk_ns)} ns more than a plain iteration "
            "(Anthropic events, usage read from each). Ending a call queues its usage "
            "(start it, read a parsed `Message`'s usage, queue it): "
            f"{number(alone_us[0], 2)} µs; pricing and counting it when `/metrics` is "
            f"scraped (or once {DRAIN_AT:,} calls have queued up): {number(alone_us[1], 2)} µs "
            "more per call, off the call path.",
            "On this shared machine a loopback call takes milliseconds and two calls in a "
            "row differ by far more than the accounting costs, so the paired differences are "
            "noise of either sign; the *added* column is the measurement.",
        ],
        targets=targets,
    )
