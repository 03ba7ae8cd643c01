"""A rolling restart of two replicas under steady load loses no request and no background work."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks.rolling import Replica, rolling_restart, start_process
from tests.helpers import agent_env, free_port

pytestmark = pytest.mark.integration

AGENT = """
    import asyncio, logging
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime()
    log = logging.getLogger("agent")

    async def follow_up(order):
        await asyncio.sleep(1.0)
        log.warning("follow-up done %s", order)

    @runtime.capability
    async def work(payload):
        await asyncio.sleep(0.02)
        runtime.create_task(follow_up(payload["order"]), name="follow-up")
        return {"order": payload["order"]}
"""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_rolling_restart_fails_no_request(tmp_path: Path, workers: str) -> None:
    """Both replicas replaced under load: every request 200, every follow-up task finished.

    With GL_WORKERS=2 each replica is a supervisor whose two workers drain together.
    """
    (tmp_path / "rolling_agent.py").write_text(textwrap.dedent(AGENT))

    def start() -> Replica:
        port = free_port()
        env = agent_env(
            {
                "GL_HTTP_HOST": "127.0.0.1",
                "GL_HTTP_PORT": str(port),
                "GL_METRICS_PORT": str(free_port()),
                # Longer than the poll period plus propagation (0.5 s in all).
                "GL_PRESTOP_DELAY_SECONDS": "1.5",
                "GL_DRAIN_TIMEOUT_SECONDS": "10",
                "GL_WORKERS": workers,
            }
        )
        command = [sys.executable, "-m", "greenlang_runtime", "run", "rolling_agent:runtime"]
        process, log = start_process(command, env, str(tmp_path))
        return Replica(process, port, "/health/ready", log)

    outcome = rolling_restart(
        start, path="/v1/capabilities/work", body=json.dumps({"order": "x"}).encode()
    )
    assert outcome.failures == []
    assert outcome.sent >= 100  # 4 clients, 20 requests a second each, for several seconds
    assert outcome.exit_codes == [0, 0, 0, 0]
    finished = sum(log.count("follow-up done x") for log in outcome.logs)
    assert finished == outcome.sent
