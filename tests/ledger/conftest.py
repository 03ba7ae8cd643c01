"""Fixtures of the ledger tests: a fresh database per test, the fake LLM server, row reads."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from greenlang_runtime.testing import FakeLLMServer, PostgresServer
from tests.helpers import ServedAgent

TABLE = "greenlang_llm_usage"


class LedgerDatabase:
    """A database of its own on the tests' PostgreSQL server, dropped after the test."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.name = "ledger_" + secrets.token_hex(6)
        self.url = server.url.rsplit("/", 1)[0] + "/" + self.name

    def run(self, sql: str, *args: Any, database: str | None = None) -> list[dict[str, Any]]:
        """Run ``sql`` in this database (or ``database``) and return its rows as dicts."""
        url = self.url if database is None else self.server.url.rsplit("/", 1)[0] + "/" + database

        async def query() -> list[dict[str, Any]]:
            connection = await asyncpg.connect(url)
            try:
                return [dict(record) for record in await connection.fetch(sql, *args)]
            finally:
                await connection.close()

        return asyncio.run(query())

    def rows(self, table: str = TABLE) -> list[dict[str, Any]]:
        """Every row of the ledger table, oldest call first."""
        return self.run(f"SELECT * FROM {table} ORDER BY started_at, call_id")  # noqa: S608


@pytest.fixture
def ledger_db(postgres: PostgresServer) -> Iterator[LedgerDatabase]:
    """An empty database for one test's ledger."""
    database = LedgerDatabase(postgres)
    database.run(f"CREATE DATABASE {database.name}", database="postgres")
    yield database
    if not postgres.running():
        postgres.start()
    database.run(f"DROP DATABASE IF EXISTS {database.name} WITH (FORCE)", database="postgres")


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeLLMServer]:
    """A fake Anthropic/OpenAI server shared by a module's tests."""
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture
def fake(fake_server: FakeLLMServer) -> FakeLLMServer:
    """The module's fake server, reset."""
    fake_server.reset()
    return fake_server


def scrape(agent: ServedAgent) -> dict[str, float]:
    """Every sample of the agent's exposition, summed over label sets, by sample name."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx2.get(agent.metrics_url).text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals
