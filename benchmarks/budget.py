"""Benchmark 8: the LLM budget: added latency per call, reserve+settle per second, spend reached.

- Added latency: the official sync Anthropic client against the fake server
  (served in a child process), instrumented with and without a budget on a
  private Redis (loopback), called in turn. As in benchmark 4, the client's
  ``request()`` counts its own time, so the time outside it (the accounting,
  and with the budget its two Redis round trips) is measured without the
  network jitter of the LLM call itself. p50 and p99 of every call's time
  outside ``request()``, both variants, interleaved rounds.
- Reserve+settle per second: the guard alone against one Redis, from 1 and
  8 threads (sync path) and 64 tasks on one event loop (async path).
- Spend reached: calls of a realistic shape (a 4 kB prompt, ``max_tokens``
  500, about a quarter of the bound actually spent) from 16 concurrent
  callers until nothing fits: committed spend as a fraction of the budget.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from benchmarks._common import (
    Section,
    Served,
    free_port,
    median,
    number,
    progress,
    server_env,
    table,
    verdict,
)

__all__ = ["run"]

ROUNDS = 5
CALLS_PER_ROUND = 200
RATE_SECONDS = 3.0
TARGET_ADDED_P50_US = 1000.0
_MODEL = "claude-sonnet-4-5"
_PROMPT = "x" * 4000
_ASK: dict[str, Any] = {
    "model": _MODEL,
    "max_tokens": 500,
    "messages": [{"role": "user", "content": _PROMPT}],
}
_SERVE = (
    "import time\n"
    "from greenlang_runtime.testing import FakeLLMServer, FakeUsage\n"
    "FakeLLMServer(port={port}, usage=FakeUsage(input_tokens=1000, output_tokens=300)).start()\n"
    "time.sleep(10**9)\n"
)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _timed_anthropic() -> Any:
    import anthropic

    class Timed(anthropic.Anthropic):
        inner_ns = 0

        def request(self, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter_ns()
            try:
                return super().request(*args, **kwargs)
            finally:
                self.inner_ns += time.perf_counter_ns() - started

    return Timed


def _latency(llm_url: str, redis_url: str) -> tuple[list[float], list[float], list[float]]:
    """µs outside ``request()`` per call, budget off and on; and whole calls with the budget."""
    from greenlang_runtime import AgentRuntime, Settings
    from greenlang_runtime.config import SecretUrl

    timed = _timed_anthropic()
    off = AgentRuntime(agent_id="bench-budget", environ={})
    on = AgentRuntime(
        agent_id="bench-budget",
        environ={},
        settings=Settings(llm_budget_usd=1_000_000, llm_budget_redis_url=SecretUrl(redis_url)),
    )
    clients = [
        runtime.instrument(timed(base_url=llm_url, api_key="bench", max_retries=0))
        for runtime in (off, on)
    ]
    outside: tuple[list[float], list[float]] = ([], [])
    whole: list[float] = []
    for client in clients:  # warm: connections, price lookups, scripts loaded
        for _ in range(20):
            client.messages.create(**_ASK)
    for round_ in range(ROUNDS):
        progress(f"budget: latency, round {round_ + 1} of {ROUNDS}")
        for index in range(CALLS_PER_ROUND):
            for side in (0, 1) if (index + round_) % 2 else (1, 0):
                client = clients[side]
                inner = client.inner_ns
                started = time.perf_counter_ns()
                client.messages.create(**_ASK)
                spent = time.perf_counter_ns() - started
                outside[side].append((spent - (client.inner_ns - inner)) / 1000)
                if side:
                    whole.append(spent / 1000)
    assert on.llm.guard is not None
    on.llm.guard.close()
    return outside[0], outside[1], whole


def _guard(redis_url: str, usd: float, tenant: str) -> Any:
    from greenlang_runtime import Identity
    from greenlang_runtime.llm.budget import BudgetConfig, BudgetGuard
    from greenlang_runtime.llm.pricing import Price, PriceBook

    prices = PriceBook()
    # claude-sonnet-4-5's rates: 3 in, 15 out, 0.30 cache read, 3.75 and 6 cache writes.
    prices.set("anthropic", _MODEL, Price.of(3.0, 15.0, 0.30, 3.75, 6.0))
    identity = Identity(agent_id="bench-budget", tenant_id=tenant)
    return BudgetGuard(BudgetConfig(usd=usd, redis_url=redis_url), identity, prices)


def _usage() -> Any:
    from greenlang_runtime.llm import Usage

    return Usage(input=1000, output=300)


def _sync_rate(redis_url: str, threads: int) -> float:
    """Reserve+settle pairs per second from ``threads`` threads for ``RATE_SECONDS``."""
    guard = _guard(redis_url, 1_000_000, f"rate-sync-{threads}")
    usage, counts = _usage(), [0] * threads
    stop = time.monotonic() + RATE_SECONDS

    def work(slot: int) -> None:
        while time.monotonic() < stop:
            hold = guard.reserve("anthropic", "/v1/messages", _MODEL, _ASK)
            hold.settle("anthropic", _MODEL, usage, time.time())
            counts[slot] += 1

    workers = [threading.Thread(target=work, args=(slot,)) for slot in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    rate = sum(counts) / (time.monotonic() - started)
    guard.close()
    return rate


def _async_rate(redis_url: str, tasks: int) -> float:
    """Reserve+settle pairs per second from ``tasks`` tasks on one event loop."""
    guard = _guard(redis_url, 1_000_000, f"rate-async-{tasks}")
    usage = _usage()

    async def main() -> float:
        count = 0
        stop = time.monotonic() + RATE_SECONDS

        async def work() -> None:
            nonlocal count
            while time.monotonic() < stop:
                hold = await guard.reserve_async("anthropic", "/v1/messages", _MODEL, _ASK)
                hold.settle("anthropic", _MODEL, usage, time.time())
                count += 1

        started = time.monotonic()
        await asyncio.gather(*(work() for _ in range(tasks)))
        await guard.aclose()
        return count / (time.monotonic() - started)

    return asyncio.run(main())


def _reached(redis_url: str, usd: float, callers: int) -> tuple[float, int, int, float]:
    """A load of ``callers`` until 200 refusals in a row: committed / budget, calls, bound."""
    from greenlang_runtime import LLMBudgetExceeded

    tenant = f"reach-{usd:g}-{callers}".replace(".", "-")
    guard = _guard(redis_url, usd, tenant)
    usage = _usage()
    lock = threading.Lock()
    state = {"refused_in_a_row": 0, "admitted": 0, "bound": 0.0}

    def work() -> None:
        while state["refused_in_a_row"] < 200:
            try:
                hold = guard.reserve("anthropic", "/v1/messages", _MODEL, _ASK)
            except LLMBudgetExceeded as error:
                with lock:
                    state["refused_in_a_row"] += 1
                    state["bound"] = error.requested
                time.sleep(0.001)
                continue
            time.sleep(0.005)  # the call runs
            hold.settle("anthropic", _MODEL, usage, time.time())
            with lock:
                state["refused_in_a_row"] = 0
                state["admitted"] += 1

    workers = [threading.Thread(target=work) for _ in range(callers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    guard.flush()
    status = guard.status()
    guard.close()
    committed = status.committed or 0.0
    return committed / usd, int(state["admitted"]), callers, float(state["bound"])


def run() -> Section:
    """A private Redis and a served fake LLM; the guard measured against both."""
    from greenlang_runtime.testing import RedisServer

    redis = RedisServer()
    redis.start()
    port = free_port()
    fake = Served(
        "fake LLM server",
        [sys.executable, "-c", _SERVE.format(port=port)],
        port,
        server_env(),
    )
    try:
        _wait_for(lambda: _answers(port))
        off, on, whole = _latency(f"http://127.0.0.1:{port}", redis.url)
        progress("budget: reserve+settle per second")
        rates = [
            ("sync, 1 thread", _sync_rate(redis.url, 1)),
            ("sync, 8 threads", _sync_rate(redis.url, 8)),
            ("async, 64 tasks on one loop", _async_rate(redis.url, 64)),
        ]
        progress("budget: spend reached by a load")
        reached = [_reached(redis.url, usd, 16) for usd in (0.5, 2.0, 10.0)]
    finally:
        fake.stop()
        redis.remove()
    return _section(off, on, whole, rates, reached)


def _answers(port: int) -> bool:
    import http.client

    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/")
        connection.getresponse()
        return True
    except OSError:
        return False


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("the fake LLM server did not start")
        time.sleep(0.1)


def _section(
    off: list[float],
    on: list[float],
    whole: list[float],
    rates: list[tuple[str, float]],
    reached: list[tuple[float, int, int, float]],
) -> Section:
    p50_off, p99_off = _percentile(off, 0.5), _percentile(off, 0.99)
    p50_on, p99_on = _percentile(on, 0.5), _percentile(on, 0.99)
    added = p50_on - p50_off
    met = added <= TARGET_ADDED_P50_US
    latency = table(
        ["per call, outside request() (µs)", "p50", "p99"],
        [
            ["accounting, no budget", number(p50_off, 1), number(p99_off, 1)],
            ["accounting and budget (reserve + settle)", number(p50_on, 1), number(p99_on, 1)],
            ["added by the budget", f"{added:+.1f}", f"{p99_on - p99_off:+.1f}"],
            [
                "whole call with the budget (fake LLM on loopback)",
                number(median(whole), 1),
                number(_percentile(whole, 0.99), 1),
            ],
        ],
    )
    rate_table = table(
        ["reserve + settle, one Redis", "pairs per second"],
        [[name, number(rate)] for name, rate in rates],
    )
    reach_table = table(
        ["budget (USD)", "16 callers: calls admitted", "committed / budget", "bound per call"],
        [
            [f"{usd:g}", number(admitted), f"{share:.3f}", f"{bound:.4f} USD"]
            for (share, admitted, _, bound), usd in zip(reached, (0.5, 2.0, 10.0), strict=True)
        ],
    )
    samples = len(off)
    return Section(
        title="8. LLM budget: added latency, reserve and settle per second, spend reached",
        intro=(
            "Latency: the official sync Anthropic client (claude-sonnet-4-5, a 4,000-byte "
            "prompt, `max_tokens` 500) against the fake server in a child process, "
            "instrumented without and with a budget (`GL_LLM_BUDGET_USD` on a private "
            "Redis 7 on loopback), called in turn, "
            f"{ROUNDS} rounds of {CALLS_PER_ROUND} calls each ({samples} samples per "
            "variant). The time outside the client's `request()` is the accounting and, "
            "with the budget, its reserve (one `EVALSHA` before the request is sent) and "
            "its settle (one after the response): the network time of the LLM call "
            "itself is left out. Rates: the guard alone, a reserve and a settle per "
            f"pair, for {RATE_SECONDS:g} s each. Spend reached: 16 threads calling "
            "(each call held 5 ms, reserving its bound of 0.0318 USD and costing "
            "0.0075 USD: 1,000 input and 300 output tokens) until 200 refusals in a "
            "row; committed spend over the budget."
        ),
        tables=[latency, rate_table, reach_table],
        notes=[
            "Run alone with `python -m benchmarks budget` (about 1 minute). Near the "
            "limit a call is refused once its whole bound no longer fits, so the "
            "spend stops short of the budget by at most about one bound; the "
            "smaller the budget is against the bound, the larger that share "
            "(docs/llm.md, sizing `max_tokens`)."
        ],
        targets=[
            [
                f"LLM budget: ≤ {TARGET_ADDED_P50_US:g} µs added per call (p50, two Redis "
                "round trips on loopback)",
                f"{added:+.0f} µs (p99 {p99_on - p99_off:+.0f} µs)",
                verdict(met),
            ]
        ],
    )
