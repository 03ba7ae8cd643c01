"""The example against a real PostgreSQL (its factor table) and a real Redis (its result cache)."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx2
import pytest
import redis as redis_client
from prometheus_client import REGISTRY

from examples.cbam_calculator.cbam_calculator.factors import PostgresFactors
from greenlang_runtime.testing import PostgresServer, RedisServer, RuntimeClient
from tests.examples.conftest import CALCULATE, EXAMPLE, errors_total
from tests.helpers import ServedAgent, agent_env, free_port

pytestmark = pytest.mark.integration

CLINKER = {"lines": [{"cn_code": "2523 10 00", "quantity": 1000}]}


def _sql(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(url)
        try:
            return await connection.fetch(query, *args)
        finally:
            await connection.close()

    return asyncio.run(run())


@pytest.fixture
def database(postgres: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database on the test server; dropped afterwards."""
    name = "cbam_" + secrets.token_hex(4)
    _sql(postgres.url, f"CREATE DATABASE {name}")
    yield postgres.url.rsplit("/", 1)[0] + "/" + name
    _sql(postgres.url, f"DROP DATABASE {name} WITH (FORCE)")


def _wait_ready(client: RuntimeClient) -> dict[str, Any]:
    # The checks run in the background; a bound on a hang, not a timing.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = client.get("/health/ready")
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.05)
    raise AssertionError(f"not ready: {client.get('/health/ready').text}")


def _cache_count(result: str) -> float:
    return REGISTRY.get_sample_value("cbam_result_cache_lookups_total", {"result": result}) or 0


def test_factors_come_from_a_table_the_agent_creates_and_seeds(
    database: str, make_client: Callable[..., RuntimeClient]
) -> None:
    """With DATABASE_URL the agent seeds cbam_default_values and computes from it."""
    client = make_client({"DATABASE_URL": database})
    assert _wait_ready(client)["checks"]["postgres"]["status"] == "up"
    rows = _sql(database, "SELECT cn_code, direct_tco2e, indirect_tco2e FROM cbam_default_values")
    assert len(rows) == 7
    clinker = {r["cn_code"]: r for r in rows}["25231000"]
    assert (clinker["direct_tco2e"], clinker["indirect_tco2e"]) == (
        Decimal("0.83"),
        Decimal("0.04"),
    )
    body = client.post(CALCULATE, json=CLINKER).json()
    assert body["factors"] == "postgres"
    # 1000 t of clinker at 0.83 direct and 0.04 indirect.
    assert body["totals"] == {"direct_tco2e": 830.0, "indirect_tco2e": 40.0, "total_tco2e": 870.0}


def test_the_table_is_the_source_of_truth_and_seeding_is_idempotent(
    database: str, make_client: Callable[..., RuntimeClient]
) -> None:
    """A value an operator corrected, or a row they added, survives a restart and is used."""
    make_client({"DATABASE_URL": database})
    _sql(database, "UPDATE cbam_default_values SET direct_tco2e = 0.9 WHERE cn_code = '25231000'")
    _sql(
        database,
        "INSERT INTO cbam_default_values VALUES ($1, $2, $3, $4, $5, $6, $7)",
        "27160000",
        "Electrical energy (an operator's own value)",
        "electricity",
        "MWh",
        Decimal("0.5"),
        Decimal("0"),
        "operator",
    )
    client = make_client({"DATABASE_URL": database})  # a second start seeds again
    assert len(_sql(database, "SELECT 1 FROM cbam_default_values")) == 8
    payload = {
        "lines": [
            {"cn_code": "2523 10 00", "quantity": 10},
            {"cn_code": "2716 00 00", "quantity": 2},
        ]
    }
    response = client.post(CALCULATE, json=payload)
    assert response.status_code == 200, response.text
    lines = response.json()["lines"]
    assert lines[0]["direct_tco2e"] == pytest.approx(10 * 0.9)
    assert (lines[1]["unit"], lines[1]["direct_tco2e"]) == ("MWh", pytest.approx(2 * 0.5))


def test_unknown_codes_are_client_errors_with_postgres_too(
    database: str, make_client: Callable[..., RuntimeClient]
) -> None:
    """A CN code the table lacks is 422, not an agent error."""
    client = make_client({"DATABASE_URL": database})
    response = client.post(CALCULATE, json={"lines": [{"cn_code": "9999", "quantity": 1}]})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["type"] == "unknown_cn_code"
    assert errors_total(client.runtime) == 0


def test_a_cache_hit_returns_exactly_what_the_computation_does(
    make_client: Callable[..., RuntimeClient], redis: RedisServer
) -> None:
    """Same request twice: a miss then a hit, byte for byte the uncached answer, kept 300 s."""
    payload = {"lines": [{"cn_code": "7601", "quantity": 4, "country_of_origin": "NO"}]}
    uncached = make_client().post(CALCULATE, json=payload).content
    client = make_client({"REDIS_URL": redis.url})
    assert _wait_ready(client)["checks"]["redis"]["status"] == "up"
    store = redis_client.Redis.from_url(redis.url)
    store.flushdb()
    hits, misses = _cache_count("hit"), _cache_count("miss")
    first = client.post(CALCULATE, json=payload).content
    # The write runs after the answer (runtime.create_task); a bound on a hang.
    deadline = time.monotonic() + 10
    while not store.keys("cbam-calculator:v1:bundled:*") and time.monotonic() < deadline:
        time.sleep(0.01)
    second = client.post(CALCULATE, json=payload).content
    assert (_cache_count("miss"), _cache_count("hit")) == (misses + 1, hits + 1)
    assert first == second == uncached
    (key,) = store.keys("cbam-calculator:v1:bundled:*")
    assert 0 < store.ttl(key) <= 300
    store.close()
    # A different request is not answered from the cache.
    other = client.post(CALCULATE, json={"lines": [{"cn_code": "7601", "quantity": 5}]}).json()
    assert other["totals"]["total_tco2e"] == pytest.approx(5 * (2.36 + 8.14))


def test_redis_down_still_answers(
    make_client: Callable[..., RuntimeClient], redis: RedisServer
) -> None:
    """With Redis stopped the calculation is computed; the failure is counted as a cache error."""
    client = make_client({"REDIS_URL": redis.url})
    redis.stop()
    errors = _cache_count("error")
    response = client.post(CALCULATE, json={"lines": [{"cn_code": "2814", "quantity": 2}]})
    assert response.status_code == 200
    # 2 t of ammonia at 2.68 + 0.14.
    assert response.json()["totals"]["total_tco2e"] == pytest.approx(2 * (2.68 + 0.14))
    assert _cache_count("error") == errors + 1
    assert errors_total(client.runtime) == 0


def test_replicas_starting_together_seed_the_table_once(database: str) -> None:
    """Three agents opening the same new database at once all start; the table has 7 rows."""

    async def start_three() -> None:
        sources = [PostgresFactors(database) for _ in range(3)]
        try:
            await asyncio.gather(*(source.open() for source in sources))
        finally:
            await asyncio.gather(*(source.close() for source in sources))

    asyncio.run(start_three())
    assert len(_sql(database, "SELECT 1 FROM cbam_default_values")) == 7


def test_served_with_postgres_and_redis_then_stopped(database: str, redis: RedisServer) -> None:
    """Served for real: both checks up, factors from PostgreSQL, exit 0 on SIGTERM."""
    port, metrics_port = free_port(), free_port()
    env = agent_env(
        {
            "GL_HTTP_PORT": str(port),
            "GL_METRICS_PORT": str(metrics_port),
            "GL_PRESTOP_DELAY_SECONDS": "0",
            "DATABASE_URL": database,
            "REDIS_URL": redis.url,
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "greenlang_runtime", "run"],
        cwd=EXAMPLE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    agent = ServedAgent(process, port, metrics_port)
    try:
        agent.wait_until("/health/ready")
        checks = httpx2.get(agent.url + "/health/ready").json()["checks"]
        assert {name: check["status"] for name, check in checks.items()} == {
            "postgres": "up",
            "redis": "up",
        }
        body = httpx2.post(agent.url + CALCULATE, json=CLINKER).json()
        assert (body["factors"], body["totals"]["total_tco2e"]) == ("postgres", 870.0)
        status, log = agent.stop()
        assert status == 0, log
        password = urlsplit(database).password
        assert password
        assert password not in log
    finally:
        if process.poll() is None:
            process.kill()
            agent.exited()
