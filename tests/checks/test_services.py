"""The postgres and redis checks against real servers: outages, hangs, recovery, secrets."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

import httpx2
import pytest
from prometheus_client import generate_latest

from greenlang_runtime import AgentRuntime, Settings
from greenlang_runtime.testing import (
    BlackHole,
    PostgresServer,
    RedisServer,
    RuntimeClient,
    metric_value,
)
from tests.helpers import ServedAgent
from tests.serving.test_lifecycle import FAST, poll

pytestmark = pytest.mark.integration


def fast(**urls: str) -> Settings:
    """Quick checks (50 ms apart, damping 2/2) against the given URLs."""
    return dataclasses.replace(FAST, **urls)  # type: ignore[arg-type]


def test_postgres_outage_flips_readiness_and_recovery_restores_it(
    make_runtime: Callable[..., AgentRuntime],
    postgres: PostgresServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stopping PostgreSQL turns readiness 503 (liveness stays 200); starting it again, 200."""
    runtime = make_runtime(settings=fast(database_url=postgres.url))
    with caplog.at_level(logging.INFO, "greenlang_runtime"), RuntimeClient(runtime) as client:
        body = poll(client, "/health/ready", lambda r: r.status_code == 200)
        assert body["checks"]["postgres"]["status"] == "up"
        assert metric_value(runtime, "agent_dependency_up", {"dependency": "postgres"}) == 1

        postgres.stop()
        body = poll(client, "/health/ready", lambda r: r.status_code == 503)
        assert body["checks"]["postgres"]["status"] == "down"
        assert client.get("/health/live").status_code == 200
        assert metric_value(runtime, "agent_dependency_up", {"dependency": "postgres"}) == 0

        postgres.start()
        body = poll(client, "/health/ready", lambda r: r.status_code == 200)
        assert body["checks"]["postgres"]["status"] == "up"
    assert postgres.password not in caplog.text
    assert postgres.password not in str(body)


def test_postgres_check_reuses_one_connection(
    make_runtime: Callable[..., AgentRuntime], postgres: PostgresServer
) -> None:
    """Dozens of checks and hundreds of probes open one connection, not one per probe."""
    runtime = make_runtime(settings=fast(database_url=postgres.url))
    before = postgres.connections_seen()
    with RuntimeClient(runtime) as client:
        poll(client, "/health/ready", lambda r: r.status_code == 200)
        for _ in range(300):
            assert client.get("/health/ready").status_code == 200
        time.sleep(0.5)  # ten more checks at 50 ms
        checks = metric_value(
            runtime, "agent_dependency_check_duration_seconds_count", {"dependency": "postgres"}
        )
    assert checks is not None
    assert checks >= 10
    assert postgres.connections_seen() - before == 1


def test_wrong_postgres_password_is_down_without_showing_it(
    make_runtime: Callable[..., AgentRuntime],
    postgres: PostgresServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A rejected password reports the failure; neither password appears anywhere."""
    wrong = postgres.url.replace(postgres.password, "not-the-Pa55word")
    runtime = make_runtime(settings=fast(database_url=wrong))
    with caplog.at_level(logging.INFO, "greenlang_runtime"), RuntimeClient(runtime) as client:
        body = poll(client, "/health/ready", lambda r: "error" in r.json()["checks"]["postgres"])
    error = body["checks"]["postgres"]["error"]
    assert error.startswith("InvalidPasswordError: password authentication failed")
    exposition = generate_latest(runtime.registry).decode()
    for text in (str(body), caplog.text, repr(runtime.settings), exposition):
        assert "not-the-Pa55word" not in text
        assert postgres.password not in text


def test_hung_postgres_times_out_while_probes_answer(
    make_runtime: Callable[..., AgentRuntime], black_hole: BlackHole
) -> None:
    """A PostgreSQL that accepts and never answers is down after the timeout; probes stay fast."""
    url = f"postgresql://app:s3cret-pw@127.0.0.1:{black_hole.port}/db"
    settings = dataclasses.replace(
        fast(database_url=url), check_timeout_seconds=0.3, check_interval_seconds=0.3
    )
    runtime = make_runtime(settings=settings)
    with RuntimeClient(runtime) as client:
        slowest = 0.0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = client.get("/health/ready")
            slowest = max(slowest, time.perf_counter() - started)
            if "error" in response.json()["checks"]["postgres"]:
                break
        assert response.status_code == 503
        assert response.json()["checks"]["postgres"]["error"] == "no answer within 0.3 s"
        assert client.get("/health/live").status_code == 200
    # A probe that waited for the check would take the whole 0.3 s timeout.
    assert slowest < 0.2


def test_redis_outage_and_recovery(
    make_runtime: Callable[..., AgentRuntime],
    redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stopping Redis turns readiness 503; starting it again turns it 200; no password shows."""
    runtime = make_runtime(settings=fast(redis_url=redis.url))
    with caplog.at_level(logging.INFO, "greenlang_runtime"), RuntimeClient(runtime) as client:
        body = poll(client, "/health/ready", lambda r: r.status_code == 200)
        assert body["checks"]["redis"]["status"] == "up"
        redis.stop()
        body = poll(client, "/health/ready", lambda r: r.status_code == 503)
        assert body["checks"]["redis"]["status"] == "down"
        assert "error" in body["checks"]["redis"]
        redis.start()
        poll(client, "/health/ready", lambda r: r.status_code == 200)
    assert redis.password not in caplog.text


def test_wrong_redis_password_is_down(
    make_runtime: Callable[..., AgentRuntime], redis: RedisServer
) -> None:
    """Redis rejecting the password is a down check whose error hides the password."""
    wrong = redis.url.replace(redis.password, "wrong-r3dis-pw")
    runtime = make_runtime(settings=fast(redis_url=wrong))
    with RuntimeClient(runtime) as client:
        body = poll(client, "/health/ready", lambda r: "error" in r.json()["checks"]["redis"])
    assert body["checks"]["redis"]["error"].startswith("AuthenticationError")
    assert "wrong-r3dis-pw" not in str(body)


def test_hung_redis_times_out(
    make_runtime: Callable[..., AgentRuntime], black_hole: BlackHole
) -> None:
    """A Redis that accepts and never answers is down after the timeout."""
    url = f"redis://:pw-123@127.0.0.1:{black_hole.port}/0"
    settings = dataclasses.replace(fast(redis_url=url), check_timeout_seconds=0.3)
    runtime = make_runtime(settings=settings)
    with RuntimeClient(runtime) as client:
        body = poll(client, "/health/ready", lambda r: "error" in r.json()["checks"]["redis"])
    assert body["checks"]["redis"]["status"] == "down"
    assert "pw-123" not in str(body)


def test_both_dependencies_in_a_served_agent(
    serve_agent: Callable[..., ServedAgent], postgres: PostgresServer, redis: RedisServer
) -> None:
    """A real `greenlang-runtime run` with DATABASE_URL and REDIS_URL reports both checks."""
    agent = serve_agent(
        """
        from greenlang_runtime import AgentRuntime
        runtime = AgentRuntime()
        """,
        {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url, "GL_PRESTOP_DELAY_SECONDS": "0"},
    )
    agent.wait_until("/health/ready")
    body = httpx2.get(agent.url + "/health/ready").json()
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "postgres": "up",
        "redis": "up",
    }
    metrics = httpx2.get(agent.metrics_url).text
    assert 'agent_dependency_up{agent_id="agent",dependency="postgres"' in metrics
    status, log = agent.stop()
    assert status == 0
    for secret in (postgres.password, redis.password):
        assert secret not in log
        assert secret not in metrics
