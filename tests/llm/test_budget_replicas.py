"""One budget across real agent processes: concurrent replicas, a killed replica, HTTP answers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
import redis as redis_lib

from greenlang_runtime.testing import FakeLLMServer, RedisServer
from tests.helpers import ServedAgent, agent_env, free_port
from tests.llm.budgets import COST, MAX_TOKENS, MODEL, PROMPT, TENANT, USAGE, BudgetKeys

pytestmark = pytest.mark.integration

# An agent whose capability makes one LLM call of known cost through an
# instrumented async client (a stream when asked), and reports its budget.
AGENT = """
import anthropic
from greenlang_runtime import AgentRuntime

runtime = AgentRuntime()
runtime.llm.set_price("anthropic", "{model}", input=1.0, output=2.0)
client = runtime.instrument(
    anthropic.AsyncAnthropic(base_url="{url}", api_key="t", max_retries=0)
)
ASK = {{
    "model": "{model}",
    "max_tokens": {max_tokens},
    "messages": [{{"role": "user", "content": "{prompt}"}}],
}}


@runtime.capability
async def ask(payload: dict) -> dict:
    if payload.get("stream"):
        stream = await client.messages.create(stream=True, **ASK)
        async for _ in stream:
            pass
    else:
        await client.messages.create(**ASK)
    return {{"ok": True}}


@runtime.capability
async def budget(payload: dict) -> dict:
    status = await runtime.llm.budget_async()
    return {{"committed": status.committed, "reserved": status.reserved}}
"""


def agent_source(fake: FakeLLMServer) -> str:
    return AGENT.format(url=fake.url, model=MODEL, max_tokens=MAX_TOKENS, prompt=PROMPT)


@pytest.fixture
def store(redis: RedisServer) -> RedisServer:
    """The session's Redis, emptied for the test."""
    redis_lib.Redis.from_url(redis.url).flushdb()
    return redis


def today_keys(store: RedisServer) -> BudgetKeys:
    return BudgetKeys(store.url, f"tenant:{TENANT}", time.strftime("%Y-%m-%d", time.gmtime()))


def budget_env(store: RedisServer, usd: float, **extra: str) -> dict[str, str]:
    return {
        "TENANT_ID": TENANT,
        "REDIS_URL": store.url,
        "GL_LLM_BUDGET_USD": str(usd),
        **extra,
    }


def client_errors(agent: ServedAgent) -> float:
    """agent_requests_total{capability="ask", status="client_error"} from the agent's /metrics."""
    text = httpx2.get(agent.metrics_url, timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if (
            line.startswith("agent_requests_total{")
            and 'capability="ask"' in line
            and ('status="client_error"' in line)
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total


def settled(condition: Callable[[], bool], bound: float = 10.0) -> None:
    """Wait for ``condition`` (a bound on a hang, not a timing)."""
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, "not settled within the bound"
        time.sleep(0.05)


def seconds_to_utc_midnight() -> float:
    now = time.time()
    return 86400 - now % 86400


def test_replicas_hammering_one_budget_never_commit_past_it(
    store: RedisServer, fake: FakeLLMServer, serve_agent: Callable[..., ServedAgent]
) -> None:
    """Three agents, 60 concurrent calls, budget 0.02: committed <= 0.02, refusals never sent."""
    fake.usage = USAGE
    fake.response_delay = 0.02
    env = budget_env(store, 0.02)
    source = agent_source(fake)
    agents = [serve_agent(source, {**env, "AGENT_ID": f"a{n}"}, wait=False) for n in range(3)]
    for agent in agents:
        agent.wait_until("/health/ready", timeout=60)
    # The budget's series are there from the start, before any call.
    text = httpx2.get(agents[0].metrics_url, timeout=5).text
    lines = {line.split("{")[0]: line for line in text.splitlines() if not line.startswith("#")}
    assert lines["agent_llm_budget_limit_usd"].endswith(" 0.02")
    assert 'scope="tenant"' in lines["agent_llm_budget_limit_usd"]
    assert lines["agent_llm_budget_spent_usd"].endswith(" 0.0")
    assert lines["agent_llm_budget_rejections_total"].endswith(" 0.0")
    assert lines["agent_llm_budget_unchecked_total"].endswith(" 0.0")

    def call(n: int) -> httpx2.Response:
        agent = agents[n % len(agents)]
        return httpx2.post(f"{agent.url}/v1/capabilities/ask", json={}, timeout=30)

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(call, range(60)))
    ok = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(ok) + len(refused) == 60
    keys = today_keys(store)
    # Each call sent cost exactly COST, and only the calls sent were committed
    # (an async call's settle may land just after its answer).
    assert len(fake.requests) == len(ok)
    settled(lambda: keys.committed() == pytest.approx(len(ok) * COST, abs=1e-9))
    assert keys.committed() <= 0.02
    # 0.02 holds 14 calls of 0.0014; near the end a call needs its whole bound
    # (~0.0045) to fit, so 11 to 14 go out.
    assert 11 <= len(ok) <= 14
    assert keys.held() == 0
    for answer in refused:
        assert answer.json()["error"]["type"] == "budget_exceeded"
        retry_after = int(answer.headers["retry-after"])
        assert abs(retry_after - seconds_to_utc_midnight()) < 60
    assert sum(client_errors(agent) for agent in agents) == len(refused)


def test_a_killed_replicas_reservation_expires_and_nothing_else_changes(
    store: RedisServer, fake: FakeLLMServer, serve_agent: Callable[..., ServedAgent]
) -> None:
    """SIGKILL mid slow stream: its reservation holds room 1 s more, then goes; committed stays."""
    fake.usage = USAGE
    # Budget 0.008: committed 0.0014 + two bounds of ~0.0045 do not fit, one does.
    env = budget_env(store, 0.008, GL_LLM_BUDGET_RESERVATION_SECONDS="1")
    doomed = serve_agent(agent_source(fake), {**env, "AGENT_ID": "doomed"}, wait=False)
    survivor = serve_agent(agent_source(fake), {**env, "AGENT_ID": "survivor"}, wait=False)
    for agent in (doomed, survivor):
        agent.wait_until("/health/ready", timeout=60)
    first = httpx2.post(f"{survivor.url}/v1/capabilities/ask", json={}, timeout=30)
    assert first.status_code == 200
    keys = today_keys(store)
    fake.text = " ".join(["word"] * 200)
    fake.chunk_delay = 0.1

    def slow_stream() -> None:
        with contextlib.suppress(httpx2.TransportError):  # the replica is killed under it
            httpx2.post(f"{doomed.url}/v1/capabilities/ask", json={"stream": True}, timeout=60)

    streaming = threading.Thread(target=slow_stream)
    streaming.start()
    deadline = time.monotonic() + 10
    while keys.held() < 1:
        assert time.monotonic() < deadline, "the stream never reserved"
        time.sleep(0.02)
    time.sleep(1.5)  # past the reservation time: the living replica refreshes it
    held_by_a_live_call = httpx2.post(f"{survivor.url}/v1/capabilities/ask", json={}, timeout=30)
    os.kill(doomed.process.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    streaming.join(timeout=30)
    assert held_by_a_live_call.status_code == 429
    # Within the reservation time of the kill, the room is still held...
    budget = httpx2.post(f"{survivor.url}/v1/capabilities/budget", json={}, timeout=30).json()
    if time.monotonic() - killed_at < 0.8:
        assert budget["reserved"] > 0
    # ... then released by expiry alone.
    deadline = time.monotonic() + 10
    while budget["reserved"] > 0:
        assert time.monotonic() < deadline, "the dead replica's reservation never expired"
        time.sleep(0.1)
        budget = httpx2.post(f"{survivor.url}/v1/capabilities/budget", json={}, timeout=30).json()
    assert time.monotonic() - killed_at >= 0.5
    assert budget["committed"] == pytest.approx(COST, abs=1e-9)
    fake.chunk_delay = 0.0
    after = httpx2.post(f"{survivor.url}/v1/capabilities/ask", json={}, timeout=30)
    assert after.status_code == 200
    settled(lambda: keys.committed() == pytest.approx(2 * COST, abs=1e-9))
    assert keys.reserved() == 0


def test_redis_down_in_deny_mode_answers_429_retry_in_10_seconds(
    fake: FakeLLMServer, serve_agent: Callable[..., ServedAgent]
) -> None:
    """deny with nothing listening at the Redis URL: 429 budget_exceeded, Retry-After: 10."""
    env = {
        "TENANT_ID": TENANT,
        "GL_LLM_BUDGET_USD": "5",
        "GL_LLM_BUDGET_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "GL_LLM_BUDGET_ON_ERROR": "deny",
    }
    agent = serve_agent(agent_source(fake), env)
    agent.wait_until("/health/ready")
    answer = httpx2.post(f"{agent.url}/v1/capabilities/ask", json={}, timeout=30)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "10"
    assert answer.json()["error"]["type"] == "budget_exceeded"
    assert fake.requests == []
    assert client_errors(agent) == 1


def test_a_budget_without_a_redis_url_fails_the_start_naming_the_variable(
    tmp_path: Path,
) -> None:
    """GL_LLM_BUDGET_USD with neither GL_LLM_BUDGET_REDIS_URL nor REDIS_URL: exit 2, one line."""
    (tmp_path / "agent.py").write_text(
        "from greenlang_runtime import AgentRuntime\nruntime = AgentRuntime()\n"
    )
    env = agent_env({"GL_LLM_BUDGET_USD": "10"})
    env.pop("REDIS_URL", None)
    started = subprocess.run(
        [sys.executable, "-m", "greenlang_runtime", "run", "agent:runtime"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2
    assert "GL_LLM_BUDGET_REDIS_URL" in started.stderr
    assert started.stderr.strip().count("\n") == 0
