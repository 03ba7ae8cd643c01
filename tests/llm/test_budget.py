"""The LLM budget in one process: official clients, the fake server and a real Redis."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import anthropic
import openai
import pytest
import redis as redis_lib
from prometheus_client import CollectorRegistry

from greenlang_runtime import LLMBudgetExceeded
from greenlang_runtime.llm import LLMAccounting
from greenlang_runtime.testing import FakeLLMServer, RedisServer
from tests.llm.budgets import (
    ASK,
    CHAT,
    COST,
    MAX_TOKENS,
    MODEL,
    TENANT,
    USAGE,
    BudgetKeys,
    Clock,
    make_accounting,
    utc,
)

pytestmark = pytest.mark.integration

NOON = utc(2026, 6, 15, 12)
DAY = "2026-06-15"


@pytest.fixture
def store(redis: RedisServer) -> RedisServer:
    """The session's Redis, emptied for the test."""
    redis_lib.Redis.from_url(redis.url).flushdb()
    return redis


@pytest.fixture
def keys(store: RedisServer) -> BudgetKeys:
    """The keys of the test tenant's budget for ``DAY``."""
    return BudgetKeys(store.url, f"tenant:{TENANT}", DAY)


def anthropic_client(accounting: LLMAccounting, fake: FakeLLMServer, **options: Any) -> Any:
    options.setdefault("max_retries", 0)
    return accounting.instrument(anthropic.Anthropic(base_url=fake.url, api_key="t", **options))


def sample(registry: CollectorRegistry, name: str) -> float | None:
    labels = {"agent_id": "test-agent", "version": "1.2.3", "tenant_id": TENANT}
    return registry.get_sample_value(name, {**labels, "scope": "tenant"})


def test_calls_commit_their_actual_cost_and_hold_nothing_after(
    store: RedisServer, fake: FakeLLMServer, keys: BudgetKeys
) -> None:
    """Anthropic, OpenAI chat and Responses calls: committed is their cost, no reservation left."""
    fake.usage = USAGE
    accounting = make_accounting(store.url, 1.0, Clock(NOON))
    with anthropic_client(accounting, fake) as sdk:
        sdk.messages.create(**ASK)
        sdk.messages.create(**ASK)
    plain = openai.OpenAI(base_url=fake.openai_url, api_key="t", max_retries=0)
    with accounting.instrument(plain) as sdk_openai:
        sdk_openai.chat.completions.create(**CHAT)
        sdk_openai.responses.create(model=MODEL, input="x" * 4000, max_output_tokens=MAX_TOKENS)
    # Sync calls settle in the caller's thread, before the call returns.
    assert keys.committed() == pytest.approx(4 * COST, abs=1e-9)
    assert keys.reserved() == 0
    assert keys.held() == 0


def test_a_call_that_does_not_fit_is_refused_before_it_is_sent(
    store: RedisServer, fake: FakeLLMServer, keys: BudgetKeys
) -> None:
    """Budget 0.006, each call reserving ~0.0045 and costing 0.0014: two go out, the third not."""
    fake.usage = USAGE
    registry = CollectorRegistry()
    accounting = make_accounting(store.url, 0.006, Clock(NOON), registry)
    with anthropic_client(accounting, fake) as sdk:
        sdk.messages.create(**ASK)  # 0 + 0.0045 fits
        sdk.messages.create(**ASK)  # 0.0014 + 0.0045 fits
        with pytest.raises(LLMBudgetExceeded) as refused:
            sdk.messages.create(**ASK)  # 0.0028 + 0.0045 > 0.006
    assert len(fake.requests) == 2
    error = refused.value
    assert error.limit == 0.006
    assert error.committed == pytest.approx(2 * COST)
    assert error.reserved == 0
    assert 0.0044 < error.requested < 0.0046
    assert error.retry_after == 12 * 3600  # noon to midnight, UTC
    assert "GL_LLM_BUDGET_USD" in str(error)
    assert keys.committed() == pytest.approx(2 * COST)
    assert keys.held() == 0
    assert sample(registry, "agent_llm_budget_rejections_total") == 1
    assert sample(registry, "agent_llm_budget_limit_usd") == 0.006
    assert sample(registry, "agent_llm_budget_spent_usd") == pytest.approx(2 * COST)


def test_async_clients_reserve_and_settle_on_their_loop(
    store: RedisServer, fake: FakeLLMServer, keys: BudgetKeys
) -> None:
    """An async client back to back: each call sees the last one settled, the third is refused."""
    fake.usage = USAGE
    accounting = make_accounting(store.url, 0.006, Clock(NOON))

    async def scenario() -> None:
        plain = anthropic.AsyncAnthropic(base_url=fake.url, api_key="t", max_retries=0)
        async with accounting.instrument(plain) as sdk:
            await sdk.messages.create(**ASK)
            await sdk.messages.create(**ASK)
            with pytest.raises(LLMBudgetExceeded):
                await sdk.messages.create(**ASK)
            assert accounting.guard is not None
            await accounting.guard.aclose()

    asyncio.run(scenario())
    assert len(fake.requests) == 2
    assert keys.committed() == pytest.approx(2 * COST)
    assert keys.held() == 0


# Abandoned after the first text delta: message_start told 1000 input tokens and 1 output.
EARLY = (1000 * 1 + 1 * 2) / 1e6


def _failed(sdk: Any, fake: FakeLLMServer) -> None:
    fake.fail(500)
    with pytest.raises(anthropic.InternalServerError):
        sdk.messages.create(**ASK)


def _closed(sdk: Any, fake: FakeLLMServer) -> None:
    stream = sdk.messages.create(stream=True, **ASK)
    for event in stream:
        if event.type == "content_block_delta":
            break
    stream.close()


def _dropped(sdk: Any, fake: FakeLLMServer) -> None:
    stream = sdk.messages.create(stream=True, **ASK)
    for event in stream:
        if event.type == "content_block_delta":
            break
    del stream
    gc.collect()


def _unread(sdk: Any, fake: FakeLLMServer) -> None:
    stream = sdk.messages.create(stream=True, **ASK)
    del stream
    gc.collect()


def _timed_out(sdk: Any, fake: FakeLLMServer) -> None:
    fake.response_delay = 2.0
    with pytest.raises(anthropic.APITimeoutError):
        sdk.with_options(timeout=0.2).messages.create(**ASK)


@pytest.mark.parametrize(
    ("ending", "cost"),
    [(_failed, 0.0), (_closed, EARLY), (_dropped, EARLY), (_unread, 0.0), (_timed_out, 0.0)],
    ids=["error", "stream-closed", "stream-dropped", "stream-unread", "timeout"],
)
def test_every_ending_commits_the_actual_cost_and_releases_the_reservation(
    store: RedisServer, fake: FakeLLMServer, keys: BudgetKeys, ending: Any, cost: float
) -> None:
    """Error, abandoned or collected stream, timeout: committed == cost, nothing held."""
    fake.usage = USAGE
    accounting = make_accounting(store.url, 1.0, Clock(NOON))
    with anthropic_client(accounting, fake) as sdk:
        ending(sdk, fake)
    assert accounting.guard is not None
    assert accounting.guard.flush()
    assert keys.committed() == pytest.approx(cost, abs=1e-9)
    assert keys.reserved() == 0
    assert keys.held() == 0


def test_a_cancelled_async_stream_commits_what_it_got_and_releases(
    store: RedisServer, fake: FakeLLMServer, keys: BudgetKeys
) -> None:
    """A task cancelled mid stream: its cost so far is committed, its reservation released."""
    fake.usage = USAGE
    fake.chunk_delay = 0.05
    accounting = make_accounting(store.url, 1.0, Clock(NOON))

    async def scenario() -> None:
        plain = anthropic.AsyncAnthropic(base_url=fake.url, api_key="t", max_retries=0)
        async with accounting.instrument(plain) as sdk:
            got_text = asyncio.Event()

            async def read() -> None:
                stream = await sdk.messages.create(stream=True, **ASK)
                async for event in stream:
                    if event.type == "content_block_delta":
                        got_text.set()

            task = asyncio.create_task(read())
            await asyncio.wait_for(got_text.wait(), timeout=10)
            assert keys.held() == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert accounting.guard is not None
            await accounting.guard.aclose()

    asyncio.run(scenario())
    assert keys.committed() == pytest.approx(EARLY, abs=1e-9)
    assert keys.reserved() == 0
    assert keys.held() == 0


def test_a_call_cancelled_while_reserving_leaves_nothing_held(
    store: RedisServer, fake: FakeLLMServer, keys: BudgetKeys
) -> None:
    """Cancelled at once, before or during its reservation: nothing sent, nothing held."""
    accounting = make_accounting(store.url, 1.0, Clock(NOON))

    async def scenario() -> None:
        plain = anthropic.AsyncAnthropic(base_url=fake.url, api_key="t", max_retries=0)
        async with accounting.instrument(plain) as sdk:
            for _ in range(20):
                task = asyncio.create_task(sdk.messages.create(**ASK))
                await asyncio.sleep(0)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            assert accounting.guard is not None
            await accounting.guard.aclose()

    asyncio.run(scenario())
    assert fake.requests == []
    assert keys.committed() == 0
    assert keys.reserved() == 0
    assert keys.held() == 0


def test_a_running_call_keeps_its_reservation_past_the_reservation_time(
    store: RedisServer, fake: FakeLLMServer, keys: BudgetKeys
) -> None:
    """Reservations of 1 s, a stream of 2.5 s: still held near its end, then settled."""
    fake.usage = USAGE
    fake.text = " ".join(["word"] * 10)
    fake.chunk_delay = 0.2
    accounting = make_accounting(store.url, 1.0, Clock(NOON), reservation_seconds=1.0)
    held_late = 0
    with anthropic_client(accounting, fake) as sdk:
        stream = sdk.messages.create(stream=True, **ASK)
        for count, _ in enumerate(stream):
            if count == 10:  # about 2 s in: twice the reservation time
                held_late = keys.held()
    assert held_late == 1
    assert keys.committed() == pytest.approx(COST, abs=1e-9)
    assert keys.held() == 0


def test_the_period_rolls_over_at_utc_midnight(store: RedisServer, fake: FakeLLMServer) -> None:
    """Spent at 23:59:59, refused; at 00:00:00 the next day's budget admits the call."""
    fake.usage = USAGE
    clock = Clock(utc(2026, 6, 30, 23, 59, 59))
    accounting = make_accounting(store.url, 0.006, clock)
    june = BudgetKeys(store.url, f"tenant:{TENANT}", "2026-06-30")
    july = BudgetKeys(store.url, f"tenant:{TENANT}", "2026-07-01")
    with anthropic_client(accounting, fake) as sdk:
        sdk.messages.create(**ASK)
        sdk.messages.create(**ASK)
        with pytest.raises(LLMBudgetExceeded) as refused:
            sdk.messages.create(**ASK)
        assert refused.value.retry_after == 1
        clock.now = utc(2026, 7, 1)
        sdk.messages.create(**ASK)
    assert june.committed() == pytest.approx(2 * COST)
    assert july.committed() == pytest.approx(COST)
    # Each period's keys expire two days after the period's end, not before.
    assert 2 * 86400 <= june.ttl("committed") <= 2 * 86400 + 1
    assert 86400 + 2 * 86400 - 5 <= july.ttl("committed") <= 3 * 86400


def test_a_month_budget_spans_the_calendar_month(store: RedisServer, fake: FakeLLMServer) -> None:
    """period=month: the 1st and the 31st share one budget; the next month has its own."""
    fake.usage = USAGE
    clock = Clock(utc(2026, 1, 1, 0, 0, 1))
    accounting = make_accounting(store.url, 1.0, clock, period="month")
    with anthropic_client(accounting, fake) as sdk:
        sdk.messages.create(**ASK)
        clock.now = utc(2026, 1, 31, 23, 59)
        sdk.messages.create(**ASK)
        clock.now = utc(2026, 2, 1)
        sdk.messages.create(**ASK)
    january = BudgetKeys(store.url, f"tenant:{TENANT}", "2026-01")
    february = BudgetKeys(store.url, f"tenant:{TENANT}", "2026-02")
    assert january.committed() == pytest.approx(2 * COST)
    assert february.committed() == pytest.approx(COST)


def test_a_calls_spend_belongs_to_the_period_it_was_reserved_in(
    store: RedisServer, fake: FakeLLMServer
) -> None:
    """A stream started before midnight and read after it is committed to the earlier day."""
    fake.usage = USAGE
    clock = Clock(utc(2026, 6, 30, 23, 59, 59))
    accounting = make_accounting(store.url, 1.0, clock)
    with anthropic_client(accounting, fake) as sdk:
        stream = sdk.messages.create(stream=True, **ASK)
        clock.now = utc(2026, 7, 1, 0, 0, 1)
        for _ in stream:
            pass
    june = BudgetKeys(store.url, f"tenant:{TENANT}", "2026-06-30")
    july = BudgetKeys(store.url, f"tenant:{TENANT}", "2026-07-01")
    assert june.committed() == pytest.approx(COST)
    assert july.committed() == 0


def test_agent_scope_keeps_one_budget_per_agent(store: RedisServer, fake: FakeLLMServer) -> None:
    """scope=agent: the spend goes to the tenant's agent, not to the tenant."""
    fake.usage = USAGE
    accounting = make_accounting(store.url, 1.0, Clock(NOON), scope="agent")
    with anthropic_client(accounting, fake) as sdk:
        sdk.messages.create(**ASK)
    agent = BudgetKeys(store.url, f"agent:{TENANT}:test-agent", DAY)
    tenant = BudgetKeys(store.url, f"tenant:{TENANT}", DAY)
    assert agent.committed() == pytest.approx(COST)
    assert tenant.committed() == 0


def test_a_call_past_its_bound_is_committed_in_full_and_counted(
    store: RedisServer, fake: FakeLLMServer, keys: BudgetKeys, caplog: pytest.LogCaptureFixture
) -> None:
    """A tiny request reporting 1000 input tokens: its whole cost committed, the excess counted."""
    fake.usage = USAGE
    registry = CollectorRegistry()
    accounting = make_accounting(store.url, 1.0, Clock(NOON), registry)
    small = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]}
    with caplog.at_level(logging.WARNING), anthropic_client(accounting, fake) as sdk:
        sdk.messages.create(**small)
        sdk.messages.create(**small)
    assert keys.committed() == pytest.approx(2 * COST, abs=1e-9)
    # The bound was the body's ~80 bytes x 1 + 5 x 2 micro-USD: some 0.00009 of each 0.0014.
    excess = sample(registry, "agent_llm_budget_excess_usd_total")
    assert excess is not None
    assert 2 * (COST - 0.0001) < excess < 2 * COST
    lines = [r for r in caplog.records if "more than its reservation" in r.getMessage()]
    assert len(lines) == 1


def test_an_unpriced_model_reserves_nothing(
    store: RedisServer, fake: FakeLLMServer, keys: BudgetKeys
) -> None:
    """A model without a price costs 0 and reserves 0, even on a spent budget."""
    accounting = make_accounting(store.url, 0.000001, Clock(NOON))
    with anthropic_client(accounting, fake) as sdk:
        sdk.messages.create(**{**ASK, "model": "no-such-model"})
    assert len(fake.requests) == 1
    assert keys.committed() == 0
    assert keys.held() == 0


def test_budget_reports_limit_committed_reserved_and_period_end(
    store: RedisServer, fake: FakeLLMServer
) -> None:
    """runtime.llm.budget(): what is committed, what is held by a running stream, the end."""
    fake.usage = USAGE
    accounting = make_accounting(store.url, 0.5, Clock(NOON))
    with anthropic_client(accounting, fake) as sdk:
        sdk.messages.create(**ASK)
        stream = sdk.messages.create(stream=True, **ASK)
        next(iter(stream))
        status = accounting.budget()
        stream.close()
    assert status is not None
    assert status.limit == 0.5
    assert status.committed == pytest.approx(COST)
    assert status.reserved is not None
    assert 0.0044 < status.reserved < 0.0046
    assert status.period == DAY
    assert status.period_end.isoformat() == "2026-06-16T00:00:00+00:00"
    assert status.scope == "tenant"
    assert status.remaining == pytest.approx(0.5 - COST - status.reserved)


def test_no_budget_reports_none() -> None:
    """Without GL_LLM_BUDGET_USD: no guard, budget() is None, no budget series."""
    from tests.llm.budgets import IDENTITY

    registry = CollectorRegistry()
    accounting = LLMAccounting(IDENTITY, registry)
    assert accounting.guard is None
    assert accounting.budget() is None
    assert sample(registry, "agent_llm_budget_limit_usd") is None


def test_redis_down_allow_lets_calls_through_unchecked_and_commits_them_later(
    store: RedisServer, fake: FakeLLMServer, keys: BudgetKeys, caplog: pytest.LogCaptureFixture
) -> None:
    """allow: with Redis stopped, calls go out, counted, logged once; settled once it is back."""
    fake.usage = USAGE
    registry = CollectorRegistry()
    accounting = make_accounting(store.url, 1.0, Clock(NOON), registry)
    with caplog.at_level(logging.WARNING), anthropic_client(accounting, fake) as sdk:
        sdk.messages.create(**ASK)
        store.stop()
        for _ in range(5):
            sdk.messages.create(**ASK)
        assert len(fake.requests) == 6
        store.start()
        assert accounting.guard is not None
        assert accounting.guard.flush(timeout=10)
        sdk.messages.create(**ASK)
    assert sample(registry, "agent_llm_budget_unchecked_total") == 5
    outage = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(outage) == 1
    # The restarted Redis kept nothing (no persistence): the 5 unchecked calls
    # are committed when it is back, then the last call.
    assert keys.committed() == pytest.approx(6 * COST)
    assert keys.held() == 0


def test_redis_down_deny_refuses_calls_until_it_is_back(
    store: RedisServer, fake: FakeLLMServer, keys: BudgetKeys, caplog: pytest.LogCaptureFixture
) -> None:
    """deny: with Redis stopped, calls raise LLMBudgetExceeded (retry in 10 s), none is sent."""
    fake.usage = USAGE
    registry = CollectorRegistry()
    accounting = make_accounting(store.url, 1.0, Clock(NOON), registry, on_error="deny")
    with caplog.at_level(logging.WARNING), anthropic_client(accounting, fake) as sdk:
        store.stop()
        for _ in range(3):
            with pytest.raises(LLMBudgetExceeded) as refused:
                sdk.messages.create(**ASK)
            assert refused.value.retry_after == 10
            assert refused.value.committed is None
        assert fake.requests == []
        assert sample(registry, "agent_llm_budget_rejections_total") == 3
        store.start()
        # Calls within half a second of a failure do not wait for Redis again.
        _eventually(lambda: _sends(sdk))
    assert len(fake.requests) == 1
    assert sample(registry, "agent_llm_budget_unchecked_total") == 0
    outage = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(outage) == 1
    assert keys.committed() == pytest.approx(COST)


def _sends(sdk: Any) -> bool:
    try:
        sdk.messages.create(**ASK)
    except LLMBudgetExceeded:
        return False
    return True


def _eventually(condition: Any, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the bound on a hang"
        time.sleep(0.1)


def test_refused_calls_reach_no_server_even_over_the_raw_response_forms(
    store: RedisServer, fake: FakeLLMServer
) -> None:
    """with_raw_response and messages.stream are refused before sending too."""
    accounting = make_accounting(store.url, 0.000001, Clock(NOON))
    with anthropic_client(accounting, fake) as sdk:
        with pytest.raises(LLMBudgetExceeded):
            sdk.messages.with_raw_response.create(**ASK)
        with pytest.raises(LLMBudgetExceeded), sdk.messages.stream(**ASK) as stream:
            stream.until_done()
    assert fake.requests == []


def test_a_refusal_in_a_capability_is_429_and_a_client_error(
    store: RedisServer, fake: FakeLLMServer
) -> None:
    """Uncaught LLMBudgetExceeded: 429 budget_exceeded, Retry-After, client_error, no error."""
    import time

    from greenlang_runtime import AgentRuntime, Settings
    from greenlang_runtime.config import SecretUrl
    from greenlang_runtime.testing import RuntimeClient, metric_value

    runtime = AgentRuntime(
        agent_id="test-agent",
        tenant_id=TENANT,
        environ={},
        settings=Settings(llm_budget_usd=0.000001, llm_budget_redis_url=SecretUrl(store.url)),
    )
    runtime.llm.set_price("anthropic", MODEL, input=1.0, output=2.0)
    sdk = runtime.instrument(anthropic.Anthropic(base_url=fake.url, api_key="t", max_retries=0))

    @runtime.capability
    def ask(payload: dict[str, Any]) -> dict[str, Any]:
        sdk.messages.create(**ASK)
        return {}

    with RuntimeClient(runtime) as client:
        answer = client.post("/v1/capabilities/ask", json={})
    to_midnight = 86400 - time.time() % 86400
    assert answer.status_code == 429
    assert answer.json()["error"]["type"] == "budget_exceeded"
    assert abs(int(answer.headers["retry-after"]) - to_midnight) <= 2
    assert fake.requests == []
    requests = {"capability": "ask", "status": "client_error"}
    assert metric_value(runtime, "agent_requests_total", requests) == 1
    errors = {"error_type": "LLMBudgetExceeded"}
    assert metric_value(runtime, "agent_errors_total", errors) is None
    assert metric_value(runtime, "agent_llm_budget_rejections_total", {"scope": "tenant"}) == 1


def test_a_hung_redis_holds_a_call_for_its_timeout_only(
    fake: FakeLLMServer, black_hole: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A Redis that never answers: a call waits for the 2 s timeout, then goes out unchecked."""
    import time

    fake.usage = USAGE
    url = f"redis://127.0.0.1:{black_hole.port}/0"
    registry = CollectorRegistry()
    accounting = make_accounting(url, 1.0, Clock(NOON), registry)
    with caplog.at_level(logging.WARNING), anthropic_client(accounting, fake) as sdk:
        started = time.monotonic()
        sdk.messages.create(**ASK)
        first = time.monotonic() - started
        sdk.messages.create(**ASK)
    assert 1.9 < first < 10  # the 2 s timeout, and a bound on a hang
    assert len(fake.requests) == 2
    assert sample(registry, "agent_llm_budget_unchecked_total") == 2
    outage = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(outage) == 1
    assert "TimeoutError" in outage[0].getMessage()
