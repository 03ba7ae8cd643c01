"""The ledger inside one runtime (in process): span ids, capabilities, settings, metrics."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import Callable
from decimal import Decimal

import openai
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from greenlang_runtime import AgentRuntime, ConfigError
from greenlang_runtime.config import SecretUrl, Settings
from greenlang_runtime.ledger._buffer import LedgerBuffer
from greenlang_runtime.ledger._row import LedgerRow
from greenlang_runtime.ledger._writer import LedgerWriter
from greenlang_runtime.testing import FakeLLMServer, RuntimeClient, metric_value
from tests.ledger.conftest import TABLE, LedgerDatabase

pytestmark = pytest.mark.integration

GPT = "gpt-4o"
CHAT = {"model": GPT, "messages": [{"role": "user", "content": "Hello"}]}


def test_span_and_row_share_the_call_id_and_trace(
    make_runtime: Callable[..., AgentRuntime],
    span_exporter: InMemorySpanExporter,
    ledger_db: LedgerDatabase,
    fake: FakeLLMServer,
) -> None:
    """greenlang.llm.call_id on the LLM span is the row's call_id; trace_id is the span's trace."""
    runtime = make_runtime(settings=Settings(llm_ledger_url=SecretUrl(ledger_db.url)))
    client = runtime.instrument(
        openai.OpenAI(base_url=fake.openai_url, api_key="test", max_retries=0)
    )

    @runtime.capability
    def ask(payload: object) -> dict[str, str]:
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
        return {}

    with RuntimeClient(runtime) as http:
        assert http.post("/v1/capabilities/ask", json={}).status_code == 200
        ask({})  # a direct call from Python belongs to the capability too
    # Leaving the client ran the shutdown: the drain wrote the rows.
    rows = ledger_db.rows()
    spans = [s for s in span_exporter.get_finished_spans() if s.name == f"chat {GPT}"]
    assert len(rows) == len(spans) == 2
    by_id = {str(row["call_id"]): row for row in rows}
    for span in spans:
        assert span.attributes is not None
        row = by_id[str(span.attributes["greenlang.llm.call_id"])]
        assert row["trace_id"] == format(span.context.trace_id, "032x")
        assert row["capability"] == "ask"


def test_metrics_only_with_the_ledger(make_runtime: Callable[..., AgentRuntime]) -> None:
    """agent_llm_ledger_* are exposed with a ledger (at 0), and not without one."""
    without = make_runtime()
    assert metric_value(without, "agent_llm_ledger_pending") is None
    url = "postgresql://u:pw@127.0.0.1:1/db"
    with_ledger = make_runtime(settings=Settings(llm_ledger_url=SecretUrl(url)))
    assert metric_value(with_ledger, "agent_llm_ledger_pending") == 0
    assert metric_value(with_ledger, "agent_llm_ledger_rows_total") == 0
    assert metric_value(with_ledger, "agent_llm_ledger_dropped_total") == 0
    assert "llm-ledger" in with_ledger.checks.states
    assert not with_ledger.checks.states["llm-ledger"].check.critical


@pytest.mark.parametrize(
    ("variable", "value", "shown"),
    [
        ("GL_LLM_LEDGER_URL", "mysql://u:secret@h/db", "mysql://u:***@h/db"),
        ("GL_LLM_LEDGER_TABLE", "usage; DROP TABLE x", "usage; DROP TABLE x"),
        ("GL_LLM_LEDGER_TABLE", "Usage", "Usage"),
        ("GL_LLM_LEDGER_TABLE", "a.b.c", "a.b.c"),
        ("GL_LLM_LEDGER_BUFFER", "0", "0"),
        ("GL_LLM_LEDGER_BUFFER", "10000001", "10000001"),
        ("GL_LLM_LEDGER_FLUSH_SECONDS", "0", "0"),
    ],
)
def test_bad_settings_name_the_variable(variable: str, value: str, shown: str) -> None:
    """One line naming the variable and the value (a password masked)."""
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({variable: value})
    assert str(raised.value).startswith(f"{variable}={shown!r} is invalid: ")
    assert "secret" not in str(raised.value)


def test_defaults_and_a_schema_qualified_table() -> None:
    """Default table, buffer and interval; schema.table is accepted; the URL is shown masked."""
    settings = Settings.from_env(
        {"GL_LLM_LEDGER_URL": "postgres://u:pw@db/x", "GL_LLM_LEDGER_TABLE": "billing.usage"}
    )
    assert settings.llm_ledger_table == "billing.usage"
    assert (Settings().llm_ledger_table, Settings().llm_ledger_buffer) == (
        "greenlang_llm_usage",
        100_000,
    )
    assert Settings().llm_ledger_flush_seconds == 1.0
    assert "pw" not in repr(settings)


def row(number: int) -> LedgerRow:
    at = datetime.datetime(2026, 12, 1, 10, 0, number, tzinfo=datetime.UTC)
    return LedgerRow(
        uuid.UUID(int=number + 1),
        at,
        at,
        "agent",
        "1.0.0",
        "tenant",
        "production",
        None,
        None,
        "openai",
        GPT,
        "success",
        number,
        0,
        0,
        0,
        Decimal("0.000001") * number,
        True,
    )


def test_a_batch_written_twice_is_stored_once(ledger_db: LedgerDatabase) -> None:
    """The batch insert is idempotent on call_id: a retried batch adds no row."""
    buffer: LedgerBuffer[LedgerRow] = LedgerBuffer(100)
    writer = LedgerWriter(
        ledger_db.url, TABLE, buffer, lambda: None, flush_seconds=60, ping_seconds=60
    )

    async def write_twice() -> None:
        for _ in range(2):  # as when the first acknowledgement was lost
            for number in range(10):
                buffer.offer(row(number))
            await writer.flush()
        await writer.stop()

    asyncio.run(write_twice())
    rows = ledger_db.rows()
    assert [r["input_tokens"] for r in rows] == list(range(10))
    assert sum(r["cost_usd"] for r in rows) == Decimal("0.000045")


def test_a_table_dropped_while_running_is_created_again(ledger_db: LedgerDatabase) -> None:
    """The table dropped between two writes: the next write creates it again and lands."""
    buffer: LedgerBuffer[LedgerRow] = LedgerBuffer(100)
    writer = LedgerWriter(
        ledger_db.url, TABLE, buffer, lambda: None, flush_seconds=60, ping_seconds=60
    )

    async def write_drop_write() -> None:
        buffer.offer(row(1))
        await writer.flush()
        await asyncio.to_thread(ledger_db.run, f"DROP TABLE {TABLE}")
        buffer.offer(row(2))
        await asyncio.wait_for(writer.flush(), 30)
        await writer.stop()

    asyncio.run(write_drop_write())
    assert [r["input_tokens"] for r in ledger_db.rows()] == [2]
