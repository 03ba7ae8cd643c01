"""The ledger through real faults: the database stopped, a connection killed, a full buffer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from greenlang_runtime.testing import FakeLLMServer, PostgresServer
from tests.helpers import ServedAgent, free_port
from tests.ledger.agents import CALLS_AGENT
from tests.ledger.conftest import LedgerDatabase, scrape
from tests.ledger.test_served import STARTUP_SECONDS, call, ledger_env

pytestmark = pytest.mark.integration

FAST = {
    "GL_LLM_LEDGER_FLUSH_SECONDS": "0.2",
    "GL_CHECK_INTERVAL_SECONDS": "0.5",
    "GL_CHECK_TIMEOUT_SECONDS": "1",
}


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until true (a bound on a hang, not a timing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.05)


def served(
    serve_agent: Callable[..., ServedAgent], env: dict[str, str], source: str = CALLS_AGENT
) -> ServedAgent:
    agent = serve_agent(source, env, wait=False)
    agent.wait_until("/health/startup", timeout=STARTUP_SECONDS)
    return agent


def ledger_metric(agent: ServedAgent, name: str) -> float:
    return scrape(agent).get(f"agent_llm_ledger_{name}", -1.0)


def test_database_stopped_mid_run(
    serve_agent: Callable[..., ServedAgent],
    ledger_db: LedgerDatabase,
    postgres: PostgresServer,
    fake: FakeLLMServer,
) -> None:
    """Calls keep succeeding, pending grows, readiness 200 degraded; then every row, once."""
    agent = served(serve_agent, ledger_env(ledger_db, fake, **FAST))
    call(agent, "burst", calls=5)
    wait_for(lambda: ledger_metric(agent, "rows_total") == 6, "the first rows written")
    postgres.stop()
    for _ in range(3):
        call(agent, "burst", calls=4)
    wait_for(lambda: ledger_metric(agent, "pending") == 12, "12 rows pending")

    def degraded() -> bool:
        body = httpx2.get(f"{agent.url}/health/ready").json()
        return bool(body["status"] == "degraded")

    wait_for(degraded, "readiness degraded")
    ready = httpx2.get(f"{agent.url}/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["llm-ledger"]["status"] == "down"
    postgres.start()
    wait_for(lambda: ledger_metric(agent, "rows_total") == 18, "every row written", 60)
    assert ledger_metric(agent, "pending") == 0
    assert ledger_metric(agent, "dropped_total") == 0
    status, log = agent.stop()
    assert status == 0, log
    rows = ledger_db.rows()
    assert len(rows) == len({r["call_id"] for r in rows}) == 18
    assert "LLM ledger: cannot write" in log
    assert "is reachable again" in log
    assert postgres.password not in log + ready.text


def test_connection_killed_mid_batch(
    serve_agent: Callable[..., ServedAgent], ledger_db: LedgerDatabase, fake: FakeLLMServer
) -> None:
    """pg_terminate_backend while a batch is being inserted: the batch is retried, once."""
    agent = served(serve_agent, ledger_env(ledger_db, fake, **FAST))
    wait_for(lambda: ledger_metric(agent, "rows_total") == 1, "the startup call's row")
    holder = Holder(ledger_db)
    holder.start()
    try:
        call(agent, "burst", calls=20)

        def blocked_insert() -> list[dict[str, Any]]:
            return ledger_db.run(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE 'INSERT INTO greenlang%' "
                "AND wait_event_type = 'Lock'"
            )

        wait_for(lambda: bool(blocked_insert()), "the writer's insert waiting on the lock")
        (writer,) = blocked_insert()
        ledger_db.run("SELECT pg_terminate_backend($1)", writer["pid"])
    finally:
        holder.release()
    wait_for(lambda: ledger_metric(agent, "rows_total") == 21, "the batch written again")
    status, log = agent.stop()
    assert status == 0, log
    rows = ledger_db.rows()
    assert len(rows) == len({r["call_id"] for r in rows}) == 21


class Holder:
    """Holds an exclusive lock on the ledger table in a thread, until released."""

    def __init__(self, db: LedgerDatabase) -> None:
        self.db = db
        self._locked = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def start(self) -> None:
        self._thread.start()
        assert self._locked.wait(30)

    def release(self) -> None:
        self._release.set()
        self._thread.join(30)

    def _hold(self) -> None:
        import asyncio

        import asyncpg

        async def hold() -> None:
            connection = await asyncpg.connect(self.db.url)
            try:
                async with connection.transaction():
                    await connection.execute("LOCK TABLE greenlang_llm_usage IN EXCLUSIVE MODE")
                    self._locked.set()
                    # The release comes from the test's thread, not this loop.
                    await asyncio.to_thread(self._release.wait, 60)
            finally:
                await connection.close()

        asyncio.run(hold())


def test_full_buffer_drops_new_rows_and_counts_them(
    serve_agent: Callable[..., ServedAgent],
    ledger_db: LedgerDatabase,
    postgres: PostgresServer,
    fake: FakeLLMServer,
) -> None:
    """Buffer of 5, database down from the start: 7 of 12 dropped, the first 5 written later."""
    postgres.stop()
    env = ledger_env(ledger_db, fake, GL_LLM_LEDGER_BUFFER="5", **FAST)
    agent = served(serve_agent, env)
    # The startup call's row is the first of the five kept.
    models = [f"house-model-{i:02d}" for i in range(11)]
    for model in models:
        call(agent, "sync_call", form="chat.create", model=model)
    wait_for(lambda: ledger_metric(agent, "dropped_total") == 7, "7 rows dropped")
    assert ledger_metric(agent, "pending") == 5
    assert httpx2.get(f"{agent.url}/health/ready").status_code == 200
    postgres.start()
    wait_for(lambda: ledger_metric(agent, "rows_total") == 5, "the kept rows written", 60)
    status, log = agent.stop()
    assert status == 0, log
    rows = ledger_db.rows()
    assert [r["model"] for r in rows] == ["claude-sonnet-4-5", *models[:4]]
    assert log.count("new rows are dropped") == 1


LIGHT_AGENT = """
from greenlang_runtime import AgentRuntime

runtime = AgentRuntime()
"""


def test_three_replicas_start_against_an_empty_database(
    serve_agent: Callable[..., ServedAgent], ledger_db: LedgerDatabase
) -> None:
    """Three replicas at once, schema-qualified table: all ready, one schema, one table."""
    env = {
        "GL_LLM_LEDGER_URL": ledger_db.url,
        "GL_LLM_LEDGER_TABLE": "billing.llm_usage",
        "GL_PRESTOP_DELAY_SECONDS": "0",
    }
    agents = [serve_agent(LIGHT_AGENT, env, wait=False) for _ in range(3)]
    for agent in agents:
        agent.wait_until("/health/startup", timeout=STARTUP_SECONDS)

    def ledger_up(agent: ServedAgent) -> bool:
        checks = httpx2.get(f"{agent.url}/health/ready").json()["checks"]
        return bool(checks["llm-ledger"]["status"] == "up")

    for agent in agents:
        wait_for(lambda agent=agent: ledger_up(agent), "llm-ledger up")  # type: ignore[misc]
    for agent in agents:
        status, log = agent.stop()
        assert status == 0, log
        assert "Traceback" not in log
    tables = ledger_db.run(
        "SELECT schemaname, tablename FROM pg_tables WHERE tablename = 'llm_usage'"
    )
    assert tables == [{"schemaname": "billing", "tablename": "llm_usage"}]


def test_wrong_password_is_never_shown(
    serve_agent: Callable[..., ServedAgent], ledger_db: LedgerDatabase, fake: FakeLLMServer
) -> None:
    """A password the server refuses: degraded, with no password in the probe, logs or metrics."""
    wrong = "wrong-" + ledger_db.server.password
    url = ledger_db.url.replace(ledger_db.server.password, wrong)
    env = {**ledger_env(ledger_db, fake, **FAST), "GL_LLM_LEDGER_URL": url}
    agent = served(serve_agent, env)
    call(agent, "sync_call", form="chat.create")

    def down() -> bool:
        checks = httpx2.get(f"{agent.url}/health/ready").json()["checks"]
        return bool(checks["llm-ledger"]["status"] == "down")

    wait_for(down, "llm-ledger down")
    ready = httpx2.get(f"{agent.url}/health/ready")
    assert ready.status_code == 200
    assert "password authentication failed" in ready.json()["checks"]["llm-ledger"]["error"]
    metrics = httpx2.get(agent.metrics_url).text
    status, log = agent.stop()
    assert status == 0, log
    assert "row(s) not written" in log
    for text in (ready.text, metrics, log):
        assert wrong not in text
        assert ledger_db.server.password not in text


def test_unreachable_database_does_not_hold_the_start(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """Nothing listens at the ledger's port: the agent starts and is ready, degraded."""
    env = {
        "GL_LLM_LEDGER_URL": f"postgresql://u:secret-pw@127.0.0.1:{free_port()}/db",
        "GL_PRESTOP_DELAY_SECONDS": "0",
        **FAST,
    }
    agent = serve_agent(LIGHT_AGENT, env, wait=False)
    agent.wait_until("/health/ready", timeout=STARTUP_SECONDS)
    wait_for(
        lambda: httpx2.get(f"{agent.url}/health/ready").json()["status"] == "degraded",
        "readiness degraded",
    )
    status, log = agent.stop()
    assert status == 0, log
    assert "secret-pw" not in log
