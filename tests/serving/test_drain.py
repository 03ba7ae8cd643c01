"""The drain around the lifecycle: create_task work, SIGINT, checks and pools at shutdown."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable

import asyncpg
import httpx2
import pytest

from greenlang_runtime.testing import PostgresServer
from tests.helpers import ServedAgent


@pytest.mark.integration
def test_sigterm_waits_for_background_work(serve_agent: Callable[..., ServedAgent]) -> None:
    """On SIGTERM the agent exits only after work started with create_task has finished."""
    agent = serve_agent(
        """
        import asyncio, logging
        from greenlang_runtime import AgentRuntime
        runtime = AgentRuntime()

        async def report(order):
            await asyncio.sleep(2)
            logging.getLogger("agent").warning("report for %s sent", order)

        @runtime.capability
        async def accept(payload):
            runtime.create_task(report(payload["order"]), name="report")
            return "accepted"
        """,
        {"GL_PRESTOP_DELAY_SECONDS": "0"},
    )
    agent.wait_until("/health/ready")
    response = httpx2.post(agent.url + "/v1/capabilities/accept", json={"order": "B-7"})
    assert response.json() == "accepted"
    status, log = agent.stop()
    assert status == 0, log
    assert "report for B-7 sent" in log


@pytest.mark.integration
def test_sigint_skips_the_prestop_delay(serve_agent: Callable[..., ServedAgent]) -> None:
    """Ctrl+C drains and exits 0 without sitting out a 60 s pre-stop delay."""
    agent = serve_agent(
        "from greenlang_runtime import AgentRuntime\nruntime = AgentRuntime()\n",
        {"GL_PRESTOP_DELAY_SECONDS": "60"},
    )
    agent.wait_until("/health/ready")
    began = time.monotonic()
    agent.process.send_signal(signal.SIGINT)
    status, log = agent.exited(timeout=30)
    assert status == 0, log
    assert time.monotonic() - began < 30  # a bound on the hang: 60 s if the delay applied


@pytest.mark.integration
def test_dead_database_is_reported_within_15_seconds_with_defaults(
    serve_agent: Callable[..., ServedAgent], postgres: PostgresServer
) -> None:
    """With the default timeout, interval and damping, a stopped database flips readiness in time.

    Worst case by hand: checks start 5 s apart; the database dies just after
    one passes, the next two fail (at 5 s and 10 s, each within its 2 s
    timeout), and the second failure turns the check down: at most 12 s.
    """
    agent = serve_agent(
        "from greenlang_runtime import AgentRuntime\nruntime = AgentRuntime()\n",
        {"DATABASE_URL": postgres.url, "GL_PRESTOP_DELAY_SECONDS": "0"},
    )
    agent.wait_until("/health/ready")
    postgres.stop()
    began = time.monotonic()
    agent.wait_until("/health/ready", status=503, timeout=30)
    assert time.monotonic() - began < 15
    assert httpx2.get(agent.url + "/health/live").status_code == 200


async def _client_connections(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        )
        return count
    finally:
        await connection.close()


@pytest.mark.integration
def test_check_connection_closes_after_the_shutdown_hooks(
    serve_agent: Callable[..., ServedAgent], postgres: PostgresServer
) -> None:
    """The postgres check's connection is still open while on_shutdown hooks run, closed after."""
    agent = serve_agent(
        """
        import asyncpg, logging, os
        from greenlang_runtime import AgentRuntime
        runtime = AgentRuntime()

        @runtime.on_shutdown
        async def count_connections():
            connection = await asyncpg.connect(os.environ["DATABASE_URL"])
            count = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )
            await connection.close()
            logging.getLogger("agent").warning("connections during the hook: %d", count)
        """,
        {"DATABASE_URL": postgres.url, "GL_PRESTOP_DELAY_SECONDS": "0"},
    )
    agent.wait_until("/health/ready")
    status, log = agent.stop()
    assert status == 0, log
    # The hook's own connection and the check's.
    assert "connections during the hook: 2" in log
    # Only this query's own connection is left.
    assert asyncio.run(_client_connections(postgres.url)) == 1
