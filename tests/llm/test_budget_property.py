"""The budget's invariant over random rounds against a real Redis: committed <= budget, always.

Each round draws a budget, calls of random size and actual cost (never
above what their request allows: input tokens at most the prompt's bytes,
output at most ``max_tokens``) and a concurrency, runs them on threads (sync
path) or one event loop (async path) while a watcher reads Redis, and checks
that the committed spend never passed the budget, ends equal to the sum of
the admitted calls' costs, and that nothing stays reserved.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis as redis_lib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenlang_runtime import LLMBudgetExceeded
from greenlang_runtime.llm._usage import Usage
from greenlang_runtime.llm.budget import BudgetConfig, BudgetGuard
from greenlang_runtime.llm.pricing import Price, PriceBook
from greenlang_runtime.testing import RedisServer
from tests.llm.budgets import IDENTITY, MODEL, TENANT, BudgetKeys, Clock, utc

pytestmark = pytest.mark.integration

NOW = utc(2026, 3, 10, 9)
# Nano-USD per token at 1 and 2 USD per million.
INPUT_NANO, OUTPUT_NANO = 1000, 2000

# prompt bytes, max_tokens, share of the prompt counted as input, share of max_tokens output
calls = st.lists(
    st.tuples(
        st.integers(1, 3000),
        st.integers(0, 400),
        # Often the whole of what the request allows: the bound is then nearly exact.
        st.one_of(st.just(1.0), st.floats(0, 1)),
        st.one_of(st.just(1.0), st.floats(0, 1)),
    ),
    min_size=1,
    max_size=40,
)


def _body(prompt: int, max_tokens: int) -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "x" * prompt}],
    }


def _usage(prompt: int, max_tokens: int, input_share: float, output_share: float) -> Usage:
    return Usage(input=int(prompt * input_share), output=int(max_tokens * output_share))


@pytest.fixture(scope="module")
def prices() -> PriceBook:
    book = PriceBook()
    book.set("anthropic", MODEL, Price.of(1.0, 2.0))
    return book


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    budget_nano=st.integers(1_000, 20_000_000),
    drawn=calls,
    concurrency=st.integers(1, 8),
    on_loop=st.booleans(),
)
def test_committed_never_exceeds_the_budget(
    redis: RedisServer,
    prices: PriceBook,
    budget_nano: int,
    drawn: list[tuple[int, int, float, float]],
    concurrency: int,
    on_loop: bool,
) -> None:
    """Random budgets, costs, concurrency: committed <= budget, == the admitted calls' cost."""
    redis_lib.Redis.from_url(redis.url).flushdb()
    usd = budget_nano / 1e9
    guard = BudgetGuard(
        BudgetConfig(usd=usd, redis_url=redis.url), IDENTITY, prices, clock=Clock(NOW)
    )
    keys = BudgetKeys(redis.url, f"tenant:{TENANT}", "2026-03-10")
    admitted: list[int] = []
    lock = threading.Lock()
    over: list[float] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            committed = keys.committed()
            if committed > usd:
                over.append(committed)

    def admitted_cost(prompt: int, max_tokens: int, usage: Usage) -> None:
        with lock:
            admitted.append(usage.input * INPUT_NANO + usage.output * OUTPUT_NANO)

    def sync_call(drawn_call: tuple[int, int, float, float]) -> None:
        prompt, max_tokens, _, _ = drawn_call
        try:
            hold = guard.reserve("anthropic", "/v1/messages", MODEL, _body(prompt, max_tokens))
        except LLMBudgetExceeded:
            return
        time.sleep(0.001)  # the call "runs": others reserve meanwhile
        usage = _usage(*drawn_call)
        admitted_cost(prompt, max_tokens, usage)
        hold.settle("anthropic", MODEL, usage, NOW)

    async def async_calls() -> None:
        slots = asyncio.Semaphore(concurrency)

        async def one(drawn_call: tuple[int, int, float, float]) -> None:
            prompt, max_tokens, _, _ = drawn_call
            async with slots:
                try:
                    hold = await guard.reserve_async(
                        "anthropic", "/v1/messages", MODEL, _body(prompt, max_tokens)
                    )
                except LLMBudgetExceeded:
                    return
                await asyncio.sleep(0.001)  # the call "runs": others reserve meanwhile
                usage = _usage(*drawn_call)
                admitted_cost(prompt, max_tokens, usage)
                hold.settle("anthropic", MODEL, usage, NOW)

        await asyncio.gather(*(one(c) for c in drawn))
        await guard.aclose()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        if on_loop:
            asyncio.run(async_calls())
        else:
            with ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(sync_call, drawn))
            guard.close()
    finally:
        done.set()
        watcher.join()
    committed_nano = round(keys.committed() * 1e9)
    assert over == []
    assert committed_nano <= budget_nano
    assert committed_nano == sum(admitted)
    assert keys.reserved() == 0
    assert keys.held() == 0
