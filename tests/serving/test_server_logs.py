"""The log lines a person reads during an incident, from real served agents (JSON lines)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pytest

from greenlang_runtime.testing import FakeLLMServer
from tests.helpers import ServedAgent

pytestmark = pytest.mark.integration

_QUIET = "from greenlang_runtime import AgentRuntime\nruntime = AgentRuntime()\n"


def _records(log: str) -> list[dict[str, Any]]:
    """The JSON log lines; anything else (a traceback on stderr) fails the test."""
    return [json.loads(line) for line in log.splitlines() if line.strip()]


def _messages(log: str) -> list[str]:
    return [record["message"] for record in _records(log)]


def test_each_listener_says_what_it_serves_in_one_line(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """One line for the API listener, one for the metrics listener; no "Uvicorn running"."""
    agent = serve_agent(_QUIET, {"GL_PRESTOP_DELAY_SECONDS": "0"})
    agent.wait_until("/health/ready")
    status, log = agent.stop()
    assert status == 0, log
    messages = _messages(log)
    serving = [m for m in messages if m.startswith("serving ")]
    assert serving == [
        f"serving Prometheus metrics on http://127.0.0.1:{agent.metrics_port}/metrics",
        f"serving the agent's HTTP API on http://127.0.0.1:{agent.port}",
    ]
    assert not [m for m in messages if "Uvicorn running" in m]


def test_sigint_says_the_pre_stop_is_skipped_and_no_force_quit_hint(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """Ctrl+C: the log says the listener closes now; uvicorn's CTRL+C hint is gone."""
    agent = serve_agent(
        """
        import asyncio
        from greenlang_runtime import AgentRuntime
        runtime = AgentRuntime()

        @runtime.capability
        async def slow(payload):
            await asyncio.sleep(1)
            return "done"
        """,
        {"GL_PRESTOP_DELAY_SECONDS": "5"},
    )
    agent.wait_until("/health/ready")
    with ThreadPoolExecutor(1) as pool:
        call = pool.submit(httpx2.post, agent.url + "/v1/capabilities/slow", json={}, timeout=10)
        time.sleep(0.3)  # the call is in flight: uvicorn waits for its connection
        agent.process.send_signal(signal.SIGINT)
        assert call.result().json() == "done"
    status, log = agent.exited()
    assert status == 0, log
    messages = _messages(log)
    assert (
        "SIGINT received: the listener closes now (no pre-stop delay for SIGINT) and in-flight "
        "work gets up to 20s; send it again to exit at once"
    ) in messages
    assert "Waiting for connections to close." in messages
    assert "CTRL+C" not in log
    assert "pre-stop 5" not in log


_DRAIN_AGENT = """
import asyncio
from greenlang_runtime import AgentRuntime
runtime = AgentRuntime()
running = set()

@runtime.capability
async def slow(payload):
    running.add("slow")
    runtime.create_task(asyncio.sleep(60), name="report")
    await asyncio.sleep(60)
    return "never"

@runtime.capability
async def medium(payload):
    running.add("medium")
    await asyncio.sleep(3)
    return "done"

@runtime.capability
def quick(payload):
    return "ok"

@runtime.capability
def started(payload):
    return sorted(running)
"""


def test_the_drain_logs_each_cut_off_call_and_ends_with_one_summary_line(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """SIGTERM with pre-stop 2 s and drain 2 s, worked out by hand.

    Before the signal: a call to `slow` (starts a 60 s background task, sleeps 60 s)
    and one to `medium` (3 s: it ends 1 s into the drain). During the pre-stop: one
    readiness probe (503) and three `quick` calls, so 4 requests. At close both calls
    are in flight; `medium` completes, `slow` is cut off at the deadline; the
    background task is cancelled.
    """
    agent = serve_agent(
        _DRAIN_AGENT, {"GL_PRESTOP_DELAY_SECONDS": "2", "GL_DRAIN_TIMEOUT_SECONDS": "2"}
    )
    agent.wait_until("/health/ready")
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(httpx2.post, agent.url + "/v1/capabilities/slow", json={}, timeout=20)
        medium = pool.submit(
            httpx2.post, agent.url + "/v1/capabilities/medium", json={}, timeout=20
        )
        started = agent.url + "/v1/capabilities/started"
        deadline = time.monotonic() + 20  # a bound on a hang, not a timing
        while httpx2.post(started, json={}).json() != ["medium", "slow"]:
            assert time.monotonic() < deadline, "the calls never started"
            time.sleep(0.05)
        agent.process.send_signal(signal.SIGTERM)
        agent.wait_until("/health/ready", status=503)  # exactly one probe answered 503
        for _ in range(3):
            assert httpx2.post(agent.url + "/v1/capabilities/quick", json={}).json() == "ok"
        assert medium.result().json() == "done"
        assert slow.result().status_code == 503
    status, log = agent.exited()
    assert status == 0, log
    records = _records(log)
    (cut,) = [r for r in records if "cut off at the drain deadline (" in r["message"]]
    assert cut["message"] == (
        "capability 'slow' cut off at the drain deadline (GL_DRAIN_TIMEOUT_SECONDS=2): answered 503"
    )
    assert (cut["level"], cut["capability"]) == ("WARNING", "slow")
    (summary,) = [r for r in records if r["message"].startswith("drained in ")]
    # The end of the drain: after the app's shutdown.
    messages = [r["message"] for r in records]
    assert messages.index(summary["message"]) > messages.index("Application shutdown complete.")
    assert {k: summary[k] for k in ("prestop_requests", "completed", "cut_off")} == {
        "prestop_requests": 4,
        "completed": 1,
        "cut_off": 1,
    }
    assert summary["tasks_cancelled"] == 1
    # 2 s pre-stop + 2 s drain, plus the moments the shutdown takes.
    assert 4.0 <= summary["drain_seconds"] < 8.0
    assert summary["message"].endswith(
        "4 request(s) served during the pre-stop delay, 1 in flight at close completed, "
        "1 cut off at the drain deadline, 1 background task(s) cancelled"
    )


_LLM_AGENT = """
import logging, os
import anthropic
from greenlang_runtime import AgentRuntime
runtime = AgentRuntime()
client = runtime.instrument(anthropic.Anthropic(base_url=os.environ["FAKE_LLM_URL"], api_key="t"))
{switch}

@runtime.capability
def ask(payload):
    reply = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=16, messages=[{{"role": "user", "content": "hi"}}]
    )
    return reply.content[0].text
"""


@pytest.mark.parametrize(
    ("switch", "logged"),
    [("", 0), ('logging.getLogger("httpx2").setLevel(logging.INFO)', 1)],
    ids=["quiet-by-default", "turned-back-on"],
)
def test_the_llm_clients_http_requests_are_quiet_by_default(
    serve_agent: Callable[..., ServedAgent], switch: str, logged: int
) -> None:
    """One LLM call: no "HTTP Request:" INFO line, unless the agent sets httpx2's level."""
    with FakeLLMServer() as fake:
        agent = serve_agent(
            _LLM_AGENT.format(switch=switch),
            {"FAKE_LLM_URL": fake.url, "GL_PRESTOP_DELAY_SECONDS": "0"},
        )
        agent.wait_until("/health/ready")
        response = httpx2.post(agent.url + "/v1/capabilities/ask", json={}, timeout=10)
        assert response.status_code == 200, response.text
        status, log = agent.stop()
    assert status == 0, log
    requests = [r for r in _records(log) if r["message"].startswith("HTTP Request: POST")]
    assert len(requests) == logged
