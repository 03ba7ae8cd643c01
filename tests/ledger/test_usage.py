"""``greenlang-runtime usage``: the database's totals, as table, csv and json."""

from __future__ import annotations

import asyncio
import csv
import datetime
import io
import json
import uuid
from decimal import Decimal

import pytest
from click.testing import CliRunner

from greenlang_runtime.cli import main
from greenlang_runtime.ledger._buffer import LedgerBuffer
from greenlang_runtime.ledger._row import LedgerRow
from greenlang_runtime.ledger._writer import LedgerWriter
from tests.helpers import free_port
from tests.ledger.conftest import TABLE, LedgerDatabase

pytestmark = pytest.mark.integration

UTC = datetime.UTC
# (tenant, agent, capability, provider, model, started, tokens, cost)
CALLS = [
    (
        "tenant-a",
        "x",
        "calc",
        "openai",
        "gpt-4o",
        (2026, 12, 1, 10, 0, 0),
        (100, 10, 5, 0),
        "0.001",
    ),
    (
        "tenant-a",
        "x",
        None,
        "anthropic",
        "claude-sonnet-4-5",
        (2026, 12, 1, 23, 59, 59),
        (200, 20, 0, 7),
        "0.0025",
    ),
    (
        "tenant-a",
        "y",
        "calc",
        "openai",
        "gpt-4o",
        (2026, 12, 2, 0, 0, 0),
        (300, 30, 0, 0),
        "0.000000123",
    ),
    (
        "tenant-b",
        "x",
        "calc",
        "openai",
        "gpt-4o",
        (2026, 12, 2, 12, 0, 0),
        (400, 40, 10, 0),
        "0.01",
    ),
]
TOTAL = {
    "calls": 4,
    "input_tokens": 1000,
    "output_tokens": 100,
    "cache_read_tokens": 15,
    "cache_write_tokens": 7,
    "cost_usd": "0.013500123",
}


def counts(calls: int, tokens: tuple[int, int, int, int], cost: str) -> dict[str, object]:
    names = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    return {"calls": calls, **dict(zip(names, tokens, strict=True)), "cost_usd": cost}


@pytest.fixture
def filled(ledger_db: LedgerDatabase) -> LedgerDatabase:
    """The ledger holding CALLS, written by the runtime's own writer."""
    buffer: LedgerBuffer[LedgerRow] = LedgerBuffer(10)
    for number, (tenant, agent, capability, provider, model, at, tokens, cost) in enumerate(CALLS):
        started = datetime.datetime(*at, tzinfo=UTC)
        buffer.offer(
            LedgerRow(
                uuid.UUID(int=number + 1),
                started,
                started + datetime.timedelta(seconds=2),
                agent,
                "1.0.0",
                tenant,
                "production",
                capability,
                None,
                provider,
                model,
                "success",
                *tokens,
                Decimal(cost),
                True,
            )
        )
    writer = LedgerWriter(
        ledger_db.url, TABLE, buffer, lambda: None, flush_seconds=60, ping_seconds=60
    )

    async def write() -> None:
        await writer.flush()
        await writer.stop()

    asyncio.run(write())
    return ledger_db


def usage(db: LedgerDatabase | None, *args: str, url: str | None = None) -> tuple[int, str]:
    env = {"GL_LLM_LEDGER_URL": url or (db.url if db else "")}
    result = CliRunner().invoke(main, ["usage", *args], env=env)
    return result.exit_code, result.output


def test_json_by_tenant(filled: LedgerDatabase) -> None:
    """--by tenant --format json: one group per tenant and the total, cost as a decimal string."""
    status, output = usage(filled, "--by", "tenant", "--format", "json")
    assert status == 0, output
    assert json.loads(output) == {
        "groups": [
            {"tenant": "tenant-a", **counts(3, (600, 60, 5, 7), "0.003500123")},
            {"tenant": "tenant-b", **counts(1, (400, 40, 10, 0), "0.01")},
        ],
        "total": TOTAL,
    }


def test_json_by_day_and_capability(filled: LedgerDatabase) -> None:
    """day is the UTC date of started_at; a call outside a capability groups under null."""
    status, output = usage(filled, "--by", "day,capability", "--format", "json")
    assert status == 0, output
    assert json.loads(output)["groups"] == [
        {"day": "2026-12-01", "capability": "calc", **counts(1, (100, 10, 5, 0), "0.001")},
        {"day": "2026-12-01", "capability": None, **counts(1, (200, 20, 0, 7), "0.0025")},
        {"day": "2026-12-02", "capability": "calc", **counts(2, (700, 70, 10, 0), "0.010000123")},
    ]


def test_since_inclusive_until_exclusive(filled: LedgerDatabase) -> None:
    """--since 2026-12-02 takes the call at midnight; --until 12:00 leaves the one at 12:00."""
    status, output = usage(
        filled, "--since", "2026-12-02", "--until", "2026-12-02T12:00:00", "--format", "json"
    )
    assert status == 0, output
    assert json.loads(output) == {"groups": [], "total": counts(1, (300, 30, 0, 0), "0.000000123")}


def test_csv_and_table(filled: LedgerDatabase) -> None:
    """csv: a header, a line per group, the total last; the table shows the same figures."""
    status, output = usage(filled, "--by", "provider,model", "--format", "csv")
    assert status == 0, output
    assert list(csv.reader(io.StringIO(output))) == [
        ["provider", "model", *TOTAL],
        ["anthropic", "claude-sonnet-4-5", "1", "200", "20", "0", "7", "0.0025"],
        ["openai", "gpt-4o", "3", "800", "80", "15", "0", "0.011000123"],
        ["total", "", "4", "1000", "100", "15", "7", "0.013500123"],
    ]
    status, table = usage(filled, "--by", "agent")
    assert status == 0, table
    lines = table.splitlines()
    assert lines[0].split() == ["agent", *TOTAL]
    assert lines[2].split() == ["x", "3", "700", "70", "15", "7", "0.0135"]
    assert lines[3].split() == ["y", "1", "300", "30", "0", "0", "0.000000123"]
    assert lines[-1].split() == ["total", "4", "1000", "100", "15", "7", "0.013500123"]


def test_no_rows_in_range(filled: LedgerDatabase) -> None:
    """A range with no call: no group, and a total of zeros."""
    status, output = usage(filled, "--since", "2030-01-01", "--by", "model", "--format", "json")
    assert status == 0, output
    assert json.loads(output) == {"groups": [], "total": counts(0, (0, 0, 0, 0), "0")}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "tenant,colour"], "--by 'tenant,colour': 'colour' is not one of tenant, agent"),
        (["--by", "day,day"], "--by 'day,day' names a key twice"),
        (["--since", "yesterday"], "--since 'yesterday' is not an ISO date"),
        (["--until", "2026-13-01"], "--until '2026-13-01' is not an ISO date"),
    ],
)
def test_bad_options_exit_2_naming_them(
    ledger_db: LedgerDatabase, args: list[str], message: str
) -> None:
    """One line naming the option and the value, exit 2."""
    status, output = usage(ledger_db, *args)
    assert status == 2
    assert message in output
    assert len(output.strip().splitlines()) == 1


def test_without_a_url_or_a_table_or_a_database() -> None:
    """No GL_LLM_LEDGER_URL: exit 2; a database that is not there: exit 1, no password shown."""
    status, output = usage(None)
    assert status == 2
    assert "GL_LLM_LEDGER_URL is not set" in output
    url = f"postgresql://u:hidden-pw@127.0.0.1:{free_port()}/x"
    status, output = usage(None, url=url)
    assert status == 1
    assert "Cannot reach the ledger's database" in output
    assert "hidden-pw" not in output


def test_missing_table(ledger_db: LedgerDatabase) -> None:
    """An empty database: exit 1 with a line that names the table."""
    status, output = usage(ledger_db)
    assert status == 1
    assert "The ledger table greenlang_llm_usage does not exist" in output
